package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.EvalRows;
import io.github.amulet4j.eval.EvalUsageException;
import io.github.amulet4j.eval.EvalSettings;
import io.github.amulet4j.eval.EvalSummary;
import io.github.amulet4j.eval.Question;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.RowKey;
import io.github.amulet4j.eval.SparkRunner;
import io.github.amulet4j.prompt.Preference;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code amulet eval --spark MASTER}: the eval protocol as a Spark job. The driver reads the question set and the
 * rows already in {@code --out}, checks and records the settings as {@code eval} does, and lists the generations
 * still missing ({@code base} once per question, copied for every preference); the executors generate them in
 * batches of {@code --batch} on one model per executor JVM and the rows are appended to {@code --out} through
 * Spark's file committer, so that a retried or speculative task, or a rerun of a failed job, adds each key once.
 * On a cluster the driver ships the jars of its class path but Spark's to the executors ({@link ExecutorJars}) unless
 * {@code spark.jars} is set (spark-submit sets it to the application's jar). The command line finds this runner as
 * the {@link SparkRunner} service of the class path.
 */
public final class SparkEvalRunner implements SparkRunner {

    /** A test hook: the first attempt of this partition (of the run) fails after its first batch. */
    static final String FAULT_CONF = "spark.amulet.test.failFirstAttemptOfPartition";
    /** A test hook: every attempt of this partition fails after its first batch (the job fails). */
    static final String FAULT_EVERY_CONF = "spark.amulet.test.failEveryAttemptOfPartition";
    /** Tasks per Spark job: each job's rows are committed when it ends (default: 4 x the default parallelism). */
    static final String TASKS_PER_COMMIT_CONF = "spark.amulet.eval.tasksPerCommit";
    /** Attempts per task in local mode (Spark's default on a cluster): local[N] runs as local[N,4]. */
    static final int LOCAL_ATTEMPTS = 4;
    private static final Pattern LOCAL = Pattern.compile("local(\\[([0-9]+|\\*)])?");

    @Override
    public int run(EvalPlan plan, PrintWriter out, PrintWriter err) throws Exception {
        List<AlignmentMethod> methods = plan.methods();
        Map<String, Preference> prefs = plan.preferences();
        EvalSettings settings = plan.settings();
        Map<String, String> conf = plan.sparkConf();
        int[] fault = {intConf(conf, FAULT_CONF, -1), intConf(conf, FAULT_EVERY_CONF, -1)};
        // a session already running in this JVM (a notebook, an application that calls the command line) is used
        scala.Option<SparkSession> active = SparkSession.getActiveSession();
        boolean reuse = active.isDefined() && !active.get().sparkContext().isStopped();
        ExecutorJars jars = !reuse && shipsJars(plan.master(), conf) ? ExecutorJars.ofThisJvm() : null;
        SparkSession spark;
        try {
            if (jars != null) {
                err.println(String.format(Locale.ROOT, "eval: shipping %d jars of the class path (%.0f MB) to the"
                        + " executors (spark.jars)", jars.jars().size(), jars.bytes() / 1e6));
                err.flush();
            }
            spark = reuse ? active.get() : session(plan.master(), conf, jars);
        } catch (RuntimeException e) {
            if (jars != null) {
                jars.close();
            }
            throw e;
        }
        boolean local = spark.sparkContext().isLocal();
        try {
            return run(plan, spark, methods, prefs, settings, fault, out, err);
        } finally {
            if (!reuse) {
                spark.stop();
                SparkSession.clearActiveSession();
                SparkSession.clearDefaultSession();
                if (local) {
                    ExecutorModels.closeAll(); // the executors were this JVM's threads
                }
            }
            if (jars != null) {
                jars.close();
            }
        }
    }

    /**
     * Whether the driver ships the jars of its class path to the executors ({@link ExecutorJars}): when they are other
     * JVMs (a cluster: every master but {@code local} and {@code local[...]}), which load only Spark's jars and the
     * application's, and {@code spark.jars} is not set already (by {@code --spark-conf}, or by spark-submit, which
     * sets it to the application's jar).
     */
    static boolean shipsJars(String master, Map<String, String> conf) {
        String m = master.trim();
        boolean local = m.equals("local") || m.startsWith("local[");
        return !local && !conf.containsKey("spark.jars") && System.getProperty("spark.jars") == null;
    }

    private static int intConf(Map<String, String> conf, String key, int absent) {
        if (!conf.containsKey(key)) {
            return absent;
        }
        try {
            return Integer.parseInt(conf.get(key).trim());
        } catch (NumberFormatException e) {
            throw new EvalUsageException("--spark-conf: " + key + " must be a whole number, got '" + conf.get(key) + "'");
        }
    }

    /**
     * A session on {@code master} with {@code conf}; local[N] gets retries like a cluster; {@code jars}, when given,
     * go to the executors ({@code spark.jars}).
     */
    static SparkSession session(String master, Map<String, String> conf, ExecutorJars jars) {
        SparkSession.Builder b = SparkSession.builder().appName("amulet eval").master(localWithRetries(master));
        if (master.startsWith("local") && !conf.containsKey("spark.ui.enabled")) {
            b.config("spark.ui.enabled", "false");
        }
        if (jars != null) {
            b.config("spark.jars", jars.sparkJars());
        }
        conf.forEach(b::config);
        return b.getOrCreate();
    }

    /** {@code local}, {@code local[N]} and {@code local[*]} with {@value #LOCAL_ATTEMPTS} attempts per task; others as given. */
    static String localWithRetries(String master) {
        Matcher m = LOCAL.matcher(master.trim());
        if (!m.matches()) {
            return master;
        }
        return "local[" + (m.group(2) == null ? "1" : m.group(2)) + "," + LOCAL_ATTEMPTS + "]";
    }

    private int run(EvalPlan plan, SparkSession spark, List<AlignmentMethod> methods, Map<String, Preference> prefs,
                    EvalSettings settings, int[] fault, PrintWriter out, PrintWriter err) throws Exception {
        List<Question> questions = QuestionSource.read(spark, plan);
        ResultsDirectory dir = new ResultsDirectory(spark, plan.out());
        if (plan.overwrite()) {
            dir.delete();
        }
        Map<RowKey, JsonObject> existing = dir.rows();
        recordSettings(dir, settings, existing, questions);

        int total = questions.size() * prefs.size() * methods.size();
        int done = 0;
        List<EvalItem> items = new ArrayList<>();
        Map<Integer, JsonObject> baseRows = EvalRows.baseRowsByIndex(new ArrayList<>(existing.values()));
        for (Question q : questions) {
            for (AlignmentMethod m : methods) {
                List<String> missing = new ArrayList<>();
                for (String name : prefs.keySet()) {
                    if (existing.containsKey(new RowKey(q.index(), m.id(), name))) {
                        done++;
                    } else {
                        missing.add(name);
                    }
                }
                if (missing.isEmpty()) {
                    continue;
                }
                if (m == AlignmentMethod.BASE) {
                    JsonObject generated = baseRows.get(q.index());
                    if (generated != null) {
                        for (String name : missing) {
                            items.add(EvalItem.written(ResultsFile.line(EvalRows.baseCopy(generated, name, prefs.get(name)))));
                        }
                    } else {
                        List<String> copies = missing.subList(1, missing.size());
                        items.add(EvalItem.generation(q.index(), q.question(), m.id(), missing.get(0),
                                prefs.get(missing.get(0)).text(), copies, copies.stream().map(n -> prefs.get(n).text()).toList()));
                    }
                } else {
                    for (String name : missing) {
                        items.add(EvalItem.generation(q.index(), q.question(), m.id(), name, prefs.get(name).text(),
                                List.of(), List.of()));
                    }
                }
            }
        }
        if (done > 0) {
            err.println("eval: resuming " + dir.location() + ": " + done + " of " + total + " rows already done");
        }
        if (!items.isEmpty()) {
            generate(plan, spark, items, done, total, fault, intConf(plan.sparkConf(), TASKS_PER_COMMIT_CONF,
                    4 * spark.sparkContext().defaultParallelism()), dir, err);
        }
        Map<RowKey, JsonObject> rows = dir.rows();
        err.println("eval: " + (rows.size() - existing.size()) + " new rows, " + rows.size() + " rows in "
                + dir.location());
        err.flush();
        // the methods in --methods order, as a fresh eval run's summary lists them (the part files have no order)
        List<String> order = methods.stream().map(AlignmentMethod::id).toList();
        List<JsonObject> summaryRows = new ArrayList<>(rows.values());
        summaryRows.sort(java.util.Comparator.comparingInt(r -> {
            int i = order.indexOf(r.get("method").getAsString());
            return i < 0 ? order.size() : i;
        }));
        out.print(EvalSummary.of(summaryRows).table());
        out.flush();
        return plan.scoring().isEmpty() ? OK : SparkScoring.run(plan, spark, dir, out, err);
    }

    /**
     * Generates {@code items} in {@code partitions} tasks, committed in Spark jobs of {@code tasksPerCommit} tasks
     * (each job's rows are in {@code --out} when it ends: a run that fails keeps the rows of its finished jobs).
     */
    private void generate(EvalPlan plan, SparkSession spark, List<EvalItem> items, int done, int total, int[] fault,
                          int tasksPerCommit, ResultsDirectory dir, PrintWriter err) {
        if (tasksPerCommit < 1) {
            throw new EvalUsageException("--spark-conf: " + TASKS_PER_COMMIT_CONF + " must be >= 1, got " + tasksPerCommit);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long generations = items.stream().filter(EvalItem::generates).count();
        int partitions = plan.partitions().orElse((int) Math.max(jsc.defaultParallelism(),
                Math.ceil(generations / (plan.batch() * 4.0))));
        List<List<EvalItem>> slices = slices(items, partitions, plan.batch());
        partitions = slices.size();
        LongAccumulator rows = jsc.sc().longAccumulator("amulet rows");
        LongAccumulator tokens = jsc.sc().longAccumulator("amulet new tokens");
        LongAccumulator nanos = jsc.sc().longAccumulator("amulet generation nanos");
        Progress progress = plan.progress() ? new Progress(rows, tokens, nanos, done, total, err) : null;
        if (progress != null) {
            spark.sparkContext().addSparkListener(progress);
            err.println("eval: " + items.stream().mapToInt(EvalItem::rows).sum() + " rows to write (" + generations
                    + " generations) in " + partitions + " Spark tasks on " + spark.sparkContext().master());
            err.flush();
        }
        try {
            for (int from = 0; from < partitions; from += tasksPerCommit) {
                List<List<EvalItem>> job = slices.subList(from, Math.min(partitions, from + tasksPerCommit));
                JavaRDD<String> lines = jsc.parallelize(job, job.size()) // one slice per partition
                        .flatMap(List::iterator)
                        .mapPartitions(new GeneratePartition(plan, rows, tokens, nanos, from, fault[0], fault[1]));
                dir.append(spark.createDataset(lines.rdd(), Encoders.STRING()));
            }
        } finally {
            if (progress != null) {
                spark.sparkContext().removeSparkListener(progress);
                progress.report(true);
            }
        }
    }

    /**
     * Splits {@code items} into at most {@code partitions} contiguous slices of whole batches: the generations are
     * batched as {@code eval --batch} batches them (every batch but the run's last is full), so a task never runs a
     * partial batch that {@code eval} would not.
     */
    static List<List<EvalItem>> slices(List<EvalItem> items, int partitions, int batch) {
        List<List<EvalItem>> batches = new ArrayList<>();
        List<EvalItem> current = new ArrayList<>();
        int generations = 0;
        for (EvalItem item : items) {
            current.add(item);
            if (item.generates() && ++generations == batch) {
                batches.add(current);
                current = new ArrayList<>();
                generations = 0;
            }
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        int p = Math.max(1, Math.min(partitions, batches.size()));
        List<List<EvalItem>> slices = new ArrayList<>(p);
        for (int k = 0; k < p; k++) {
            List<EvalItem> slice = new ArrayList<>();
            batches.subList((int) ((long) k * batches.size() / p), (int) ((long) (k + 1) * batches.size() / p))
                    .forEach(slice::addAll);
            slices.add(List.copyOf(slice));
        }
        return slices;
    }

    /**
     * As {@code eval}: rows in {@code --out} need the same settings (and question texts) as this run; the settings
     * are recorded (with the methods and preferences of earlier runs added).
     */
    private static void recordSettings(ResultsDirectory dir, EvalSettings settings, Map<RowKey, JsonObject> existing,
                                       List<Question> questions) throws java.io.IOException {
        var recorded = dir.recordedSettings();
        if (existing.isEmpty()) {
            dir.writeSettings(settings);
            return;
        }
        if (recorded.isEmpty()) {
            throw new EvalUsageException("--out: " + dir.location() + " holds " + existing.size() + " rows but no settings"
                    + " file " + dir.settingsFile() + ", so they may come from other settings; give --overwrite to"
                    + " delete them and start a new run, or another --out");
        }
        List<String> differences = new ArrayList<>(settings.differencesFrom(recorded.get()));
        Map<Integer, String> asked = new HashMap<>();
        questions.forEach(q -> asked.put(q.index(), q.question()));
        for (JsonObject row : existing.values()) {
            String now = asked.get(row.get("index").getAsInt());
            if (now != null && row.has("question") && !row.get("question").getAsString().equals(now)) {
                differences.add("question " + row.get("index").getAsInt() + " of --dataset differs from the rows'");
                break;
            }
        }
        if (!differences.isEmpty()) {
            throw new EvalUsageException("--out: " + dir.location() + " holds rows of a run with other settings ("
                    + String.join("; ", differences) + "); give --overwrite to delete them and start a new run, or"
                    + " another --out");
        }
        dir.writeSettings(settings.unionWith(recorded.get()));
    }

    /** Progress lines on the driver as tasks end: rows written (committed tasks) and tokens per second. */
    private static final class Progress extends SparkListener {
        private final LongAccumulator rows;
        private final LongAccumulator tokens;
        private final LongAccumulator nanos;
        private final int done;
        private final int total;
        private final PrintWriter err;
        private long last;

        Progress(LongAccumulator rows, LongAccumulator tokens, LongAccumulator nanos, int done, int total,
                 PrintWriter err) {
            this.rows = rows;
            this.tokens = tokens;
            this.nanos = nanos;
            this.done = done;
            this.total = total;
            this.err = err;
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            report(false);
        }

        synchronized void report(boolean force) {
            long now = System.nanoTime();
            if (!force && now - last < 2_000_000_000L) {
                return;
            }
            last = now;
            double seconds = nanos.value() / 1e9;
            err.println(String.format(Locale.ROOT, "eval: %d of %d rows, %.2f tokens/s", done + rows.value(), total,
                    seconds > 0 ? tokens.value() / seconds : 0.0));
            err.flush();
        }
    }
}
