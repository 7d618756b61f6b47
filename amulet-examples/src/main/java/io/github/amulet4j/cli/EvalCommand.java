package io.github.amulet4j.cli;

import io.github.amulet4j.formats.json.Json;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.eval.reward.ScoringPlan;
import io.github.amulet4j.eval.EvalRows;
import io.github.amulet4j.eval.EvalSettings;
import io.github.amulet4j.eval.EvalSummary;
import io.github.amulet4j.eval.EvalTask;
import io.github.amulet4j.eval.EvalUsageException;
import io.github.amulet4j.eval.Question;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.RowKey;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code amulet eval}: every question x preference x method of a question set, one JSON line per row.
 * Resumes an interrupted run: rows already in {@code --out} are skipped, a partial last line is cut off,
 * each new row is flushed to the disk as soon as it is written, and Ctrl-C closes the file cleanly. The run's
 * settings are recorded in {@code <out>.settings.json}; a run with other settings is refused unless
 * {@code --overwrite}. {@code base} is generated once per question and recorded for every preference.
 * The flags make an {@link EvalPlan} (amulet-eval), which builds the requests and rows; {@code --spark} hands the
 * plan to the {@link io.github.amulet4j.eval.SparkRunner} of the amulet-spark module.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Run a question set in the paper's format through every method x preference; one JSON line "
                + "per (index, method, preference) in --out. An interrupted run resumes where it stopped; a run with other "
                + "settings than those recorded for --out is refused unless --overwrite.")
final class EvalCommand extends GeneratingCommand {

    @Option(names = "--dataset", paramLabel = "FILE", required = true,
            description = "Question set: a JSON array of {\"index\": N, \"question\": \"...\"}.")
    Path dataset;

    @Option(names = "--methods", paramLabel = "LIST", defaultValue = "base,pref,la,amulet",
            description = "Comma-separated methods (default: ${DEFAULT-VALUE}).")
    String methods;

    @Option(names = "--preferences", paramLabel = "LIST",
            description = "Comma-separated preset names (creative, sycophantic, verbose, complex, formal, pleasant, "
                    + "concise, uplifting).")
    String preferences;

    @Option(names = "--preference-file", paramLabel = "FILE",
            description = "A JSON object of name -> free-text preference, added to --preferences.")
    Path preferenceFile;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "results.jsonl",
            description = "Results, one JSON line per row; appended to and resumed (default: ${DEFAULT-VALUE}).")
    Path outFile;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N questions of the set.")
    Integer limit;

    @Option(names = "--no-progress", description = "No progress bar on stderr.")
    boolean noProgress;

    @Option(names = "--overwrite",
            description = "Start a new run in --out: delete the rows it holds and record this run's settings. Without it"
                    + " a run appends to --out only when its settings (model, revision, dtype, prompt style, system"
                    + " prompt, method parameters, decoding, max new tokens, preference texts) are those recorded there.")
    boolean overwrite;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Rows generated together, one forward pass per step for all of them (default: ${DEFAULT-VALUE})."
                    + " Each finished batch is written before the next starts; an interrupted batch is run again.")
    int batch;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Run as an Apache Spark job on MASTER (local[2]: this machine with two task threads; "
                    + "spark://host:7077, yarn, k8s://...): one model per executor, --out is then a directory of JSON-lines"
                    + " part files. Needs the amulet-spark module and Spark on the class path (see the user guide).")
    String spark;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting for --spark (repeatable), e.g. spark.executor.memory=16g.")
    List<String> sparkConf = new ArrayList<>();

    @Option(names = "--partitions", paramLabel = "N",
            description = "With --spark: Spark partitions (tasks) of the rows to generate (default: about four batches "
                    + "each, at least Spark's default parallelism).")
    Integer partitions;

    @Option(names = "--score", paramLabel = "PATH|HUB_ID",
            description = "Then score every row with this reward model (as 'amulet score' does) and print the "
                    + "paper's table: mean reward per preference and method, the candidates' win rates.")
    String score;

    @Option(names = "--scores-out", paramLabel = "FILE",
            description = "With --score: the scores file (default: --out with .scores.jsonl; on Spark a directory, "
                    + "--out with .scores). Resumable as --out is.")
    String scoresOut;

    @Option(names = "--score-batch", paramLabel = "N", defaultValue = "8",
            description = "With --score: conversations scored in one forward pass (default: ${DEFAULT-VALUE}).")
    int scoreBatch;

    @Mixin
    RewardFlags rewardFlags;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || batch > EvalPlan.MAX_BATCH) {
            throw new UsageException("--batch: must be in [1, " + EvalPlan.MAX_BATCH + "], got " + batch);
        }
        try {
            if (spark != null) {
                return plan().runOnSpark(out(), err());
            }
            return runHere();
        } catch (EvalUsageException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * The plan of these flags: the methods with their generation configurations, the preferences, the model options,
     * the question set and output as written; for {@code --spark} the master, the Spark settings and the partitions.
     *
     * @throws UsageException naming the flag when one is bad
     */
    EvalPlan plan() throws IOException {
        Map<String, String> conf = spark == null ? Map.of() : sparkConf(); // a bad --spark-conf is reported first
        List<AlignmentMethod> methodList = Options.methods(methods, "--methods");
        Map<String, Preference> prefs = preferences();
        EvalPlan.Builder b = EvalPlan.builder().model(modelOptions())
                .promptStyle(conversationFlags.promptStyle()).system(conversationFlags.system)
                .dataset(original("--dataset", dataset)).out(original("--out", outFile))
                .overwrite(overwrite).progress(!noProgress).batch(batch).master(spark);
        configs(methodList).values().forEach(b::method);
        prefs.forEach(b::preference);
        conf.forEach(b::sparkConf);
        b.scoring(scoringPlan());
        try {
            if (limit != null) {
                b.limit(limit);
            }
            if (partitions != null) {
                b.partitions(partitions);
            }
            return b.build();
        } catch (EvalUsageException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The scoring of {@code --score}, or null without it (the reward flags are then refused). */
    private ScoringPlan scoringPlan() {
        if (score == null) {
            if (rewardFlags.paperFormat || rewardFlags.truncate || scoresOut != null
                    || !rewardFlags.objective.equals("auto") || !rewardFlags.candidates.equals(List.of("amulet"))) {
                throw new UsageException("--paper-format, --truncate, --objective, --candidate and --scores-out "
                        + "go with --score REWARD_MODEL");
            }
            return null;
        }
        if (scoreBatch < 1 || scoreBatch > 4096) {
            throw new UsageException("--score-batch: must be in [1, 4096], got " + scoreBatch);
        }
        ModelFlags flags = new ModelFlags();
        flags.model = score;
        return ScoringPlan.builder()
                .rewardModel(Options.model(flags, runtime()).toBuilder().hubSettings(cli.hubSettings()).build())
                .paperFormat(rewardFlags.paperFormat).truncate(rewardFlags.truncate).objective(rewardFlags.objective)
                .candidates(rewardFlags.candidates).batch(scoreBatch).scoresOut(scoresOut).build();
    }

    /**
     * Parses an amulet command line whose command is {@code eval} into its plan (what a distributed run receives).
     *
     * @throws UsageException when it is not a valid eval command line
     */
    static EvalPlan parse(List<String> args) throws IOException {
        CommandLine cli = AmuletCli.commandLine(new StringReader(""));
        CommandLine.ParseResult parsed;
        try {
            parsed = cli.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(e.getMessage(), e);
        }
        if (!parsed.hasSubcommand() || !(parsed.subcommand().commandSpec().userObject() instanceof EvalCommand c)) {
            throw new UsageException("not an eval command line: " + String.join(" ", args));
        }
        return c.plan();
    }

    /** {@code --spark-conf KEY=VALUE} settings, in order. */
    private Map<String, String> sparkConf() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String kv : sparkConf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--spark-conf: expected KEY=VALUE, got '" + kv + "'");
            }
            out.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
        }
        return out;
    }

    /** An option's value as written (a URI such as {@code hdfs://...} stays one, not a java.nio Path). */
    private String original(String option, Object parsed) {
        List<String> values = spec.findOption(option).originalStringValues();
        return values.isEmpty() ? String.valueOf(parsed) : values.get(values.size() - 1);
    }

    /** The run in this JVM: rows appended to the --out file. */
    private int runHere() throws Exception {
        EvalPlan plan = plan();
        List<AlignmentMethod> methodList = plan.methods();
        Map<String, Preference> prefs = plan.preferences();
        List<Question> questions = plan.questions();
        PrintWriter out = out();
        PrintWriter err = err();

        EvalSettings settings = plan.settings();
        ResultsFile file;
        try {
            file = ResultsFile.open(outFile, overwrite);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--out: " + e.getMessage(), e);
        }
        try {
            recordSettings(file, settings, questions);
        } catch (IOException | RuntimeException e) {
            closeQuietly(file);
            throw e;
        }
        Thread hook = new Thread(() -> closeQuietly(file), "amulet-eval-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<JsonObject> rows = new ArrayList<>(file.existingRows());
        int written = 0;
        boolean interrupted = false;
        try {
            if (file.truncatedBytes() > 0) {
                err.println("eval: cut a partial last line (" + file.truncatedBytes() + " bytes) from " + outFile
                        + "; that row is run again");
            }
            int total = questions.size() * prefs.size() * methodList.size();
            int done = 0;
            List<EvalTask> todo = new ArrayList<>();
            List<JsonObject> copiedBase = new ArrayList<>();
            Map<Integer, JsonObject> baseRows = EvalRows.baseRowsByIndex(file.existingRows());
            for (Question q : questions) {
                for (AlignmentMethod m : methodList) {
                    List<String> missing = new ArrayList<>();
                    for (String name : prefs.keySet()) {
                        if (file.doneKeys().contains(new RowKey(q.index(), m.id(), name))) {
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
                        if (generated != null) { // the same settings made it: copy it for the missing names
                            for (String name : missing) {
                                copiedBase.add(EvalRows.baseCopy(generated, name, prefs.get(name)));
                            }
                        } else {
                            String first = missing.get(0);
                            todo.add(new EvalTask(q, first, prefs.get(first), m, missing.subList(1, missing.size())));
                        }
                    } else {
                        for (String name : missing) {
                            todo.add(new EvalTask(q, name, prefs.get(name), m, List.of()));
                        }
                    }
                }
            }
            if (done > 0) {
                err.println("eval: resuming " + outFile + ": " + done + " of " + total + " rows already done");
            }
            err.flush();
            for (JsonObject row : copiedBase) {
                file.append(row);
                rows.add(row);
                written++;
            }
            done += copiedBase.size();
            if (!todo.isEmpty()) {
                try (AmuletModel model = loadModel(); Progress bar = progressBar(total, done, err)) {
                    warmUp(plan, model, todo.get(0));
                    for (int from = 0; from < todo.size() && !interrupted; from += batch) {
                        List<EvalTask> chunk = todo.subList(from, Math.min(todo.size(), from + batch));
                        List<AmuletRequest> requests = new ArrayList<>();
                        for (EvalTask t : chunk) {
                            requests.add(plan.request(t.question().question(), t.method(), t.preference()));
                        }
                        long start = System.nanoTime();
                        List<GenerationResult> results = model.generate(requests);
                        // each row's share of the batch's wall time, so that the summary's tokens/s is throughput
                        long share = (System.nanoTime() - start) / chunk.size();
                        for (int i = 0; i < chunk.size() && !interrupted; i++) {
                            EvalTask t = chunk.get(i);
                            JsonObject row = EvalRows.row(model.name(), t, results.get(i), share);
                            row.addProperty("batch", chunk.size());
                            List<JsonObject> taskRows = new ArrayList<>();
                            taskRows.add(row);
                            for (String name : t.copies()) {
                                taskRows.add(EvalRows.baseCopy(row, name, prefs.get(name)));
                            }
                            for (JsonObject r : taskRows) {
                                try {
                                    file.append(r);
                                } catch (IllegalStateException closed) {
                                    interrupted = true; // the shutdown hook closed the file: stop here
                                    break;
                                }
                                rows.add(r);
                                written++;
                                if (bar != null) {
                                    bar.step();
                                }
                            }
                        }
                    }
                }
            }
        } finally {
            closeQuietly(file);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already shutting down; the hook has run or will run
            }
        }
        if (interrupted) {
            err.println("eval: interrupted; " + written + " new rows in " + outFile + " (run the same command to resume)");
            err.flush();
            return AmuletCli.FAILURE;
        }
        err.println("eval: " + written + " new rows, " + rows.size() + " rows in " + outFile);
        err.flush();
        out.print(EvalSummary.of(rows).table());
        out.flush();
        return plan.scoring().isEmpty() ? AmuletCli.OK : scoreHere(plan, plan.scoring().get(), out, err);
    }

    /** {@code --score}: every row of {@code --out} scored into the scores file, the paper's table printed. */
    private int scoreHere(EvalPlan plan, ScoringPlan scoring, PrintWriter out, PrintWriter err) throws IOException {
        Path scores = Path.of(scoring.scoresOut(outFile.toString()));
        List<RewardInput> inputs = RewardScoring.read(List.of(outFile));
        out.println();
        try (RewardModel model = RewardModel.load(scoring.rewardModel())) {
            return new ScoreRun(scores, JudgeCommand.chartPath(scores), scoring.encoding(plan.maxNewTokens()),
                    scoring.objective(), scoring.candidates(), scoring.batch(), false,
                    plan.methods().stream().map(AlignmentMethod::id).toList()).run(model, inputs, out, err);
        }
    }

    /** The generation configuration of each method. */
    Map<AlignmentMethod, GenerationConfig> configs(List<AlignmentMethod> methodList) {
        Map<AlignmentMethod, GenerationConfig> configs = new LinkedHashMap<>();
        for (AlignmentMethod m : methodList) {
            configs.put(m, config(m));
        }
        conversationFlags.promptStyle();
        return configs;
    }

    /**
     * Checks the run's settings against those recorded for {@code --out} and records them: a file with rows needs
     * the same settings (and the same question text for every index it holds) unless {@code --overwrite} emptied it.
     */
    private void recordSettings(ResultsFile file, EvalSettings settings, List<Question> questions) throws IOException {
        Path sidecar = EvalSettings.fileFor(outFile);
        java.util.Optional<EvalSettings> recorded;
        try {
            recorded = EvalSettings.read(sidecar);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--out: " + e.getMessage(), e); // the message says what to do
        }
        List<JsonObject> existing = file.existingRows();
        if (existing.isEmpty()) {
            settings.write(sidecar);
            return;
        }
        if (recorded.isEmpty()) {
            throw new UsageException("--out: " + outFile + " holds " + existing.size() + " rows but no settings file "
                    + sidecar + ", so they may come from other settings; give --overwrite to delete them and start a"
                    + " new run, or another --out");
        }
        List<String> differences = new ArrayList<>(settings.differencesFrom(recorded.get()));
        Map<Integer, String> asked = new java.util.HashMap<>();
        questions.forEach(q -> asked.put(q.index(), q.question()));
        for (JsonObject row : existing) {
            String now = asked.get(row.get("index").getAsInt());
            if (now != null && row.has("question") && !row.get("question").getAsString().equals(now)) {
                differences.add("question " + row.get("index").getAsInt() + " of --dataset: "
                        + Json.write(row.get("question")) + " -> " + Json.write(new com.google.gson.JsonPrimitive(now)));
                break;
            }
        }
        if (!differences.isEmpty()) {
            throw new UsageException("--out: " + outFile + " holds rows of a run with other settings ("
                    + String.join("; ", differences) + "); give --overwrite to delete them and start a new run, or"
                    + " another --out");
        }
        settings.unionWith(recorded.get()).write(sidecar);
    }

    Map<String, Preference> preferences() throws IOException {
        Map<String, Preference> prefs = new LinkedHashMap<>();
        if (preferences != null) {
            for (String name : preferences.split(",")) {
                if (!name.isBlank()) {
                    prefs.put(name.trim(), Options.preset(name, "--preferences"));
                }
            }
        }
        if (preferenceFile != null) {
            for (Map.Entry<String, String> e : readPreferenceFile(preferenceFile).entrySet()) {
                if (prefs.containsKey(e.getKey())) {
                    throw new UsageException("--preference-file: preference '" + e.getKey()
                            + "' is also in --preferences; give it another name");
                }
                prefs.put(e.getKey(), Preference.of(e.getValue()));
            }
        }
        if (prefs.isEmpty()) {
            throw new UsageException("no preference: give --preferences (preset names) and/or --preference-file");
        }
        return prefs;
    }

    /** Reads {@code {"name": "text", ...}}; a wrong format is bad usage naming the file. */
    static Map<String, String> readPreferenceFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--preference-file: " + file + " does not exist or is not a file");
        }
        JsonElement root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(r);
        } catch (JsonParseException e) {
            throw new UsageException("--preference-file: " + file + " is not valid JSON (expected an object of name -> text)", e);
        }
        if (!root.isJsonObject()) {
            throw new UsageException("--preference-file: " + file + " must hold a JSON object of name -> preference text");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (e.getKey().isBlank() || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isBlank()) {
                throw new UsageException("--preference-file: " + file + ": entry '" + e.getKey()
                        + "' must map a non-empty name to non-empty text");
            }
            out.put(e.getKey().trim(), v.getAsString());
        }
        return out;
    }

    /**
     * One short untimed generation before the timed rows, so that the first method's rows do not pay for the JIT
     * compiler and the engine's first allocations (which made the first method look several times slower).
     */
    private void warmUp(EvalPlan plan, AmuletModel model, EvalTask task) {
        GenerationConfig config = plan.config(task.method());
        GenerationConfig shortRun = config.toBuilder().maxNewTokens(Math.min(4, config.maxNewTokens())).build();
        model.generate(plan.request(task.question().question(), task.preference(), shortRun),
                io.github.amulet4j.generate.TokenListener.NONE);
    }

    private Progress progressBar(int total, int done, PrintWriter err) {
        if (noProgress) {
            return null;
        }
        return Progress.of("eval", " rows", 1, total, done, cli.stderrIsTerminal(), cli.noColor(), err,
                Duration.ofSeconds(5));
    }

    private static void closeQuietly(ResultsFile file) {
        try {
            file.close();
        } catch (IOException e) {
            // closing at shutdown: nothing more can be done, the rows written so far are on disk
        }
    }
}
