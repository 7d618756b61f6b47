package io.github.amulet4j.spark;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.EvalUsageException;
import io.github.amulet4j.eval.reward.RewardReport;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.eval.reward.ScoringPlan;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code eval --spark MASTER --score REWARD_MODEL} on the driver: after the generation, the result rows not scored yet
 * are scored on the executors ({@link ScorePartition}, one reward model per executor JVM) and appended to the scores
 * directory through Spark's file committer (a retried task or a rerun adds each key once), then the paper's table of
 * every scored row is printed, and its chart written when the scores are on the local file system.
 */
final class SparkScoring {

    /** The fields of a scored row the driver reads back (the report and the one-run check). */
    private static final List<String> REPORT_FIELDS = List.of("index", "method", "preference", "reward",
            "reward_model", "reward_format");

    private SparkScoring() {
    }

    /**
     * Scores the rows of {@code results}.
     *
     * @return {@link SparkEvalRunner#OK}, or {@link SparkEvalRunner#FAILURE} when a row was left out
     * @throws EvalUsageException when the scores directory holds another reward model's or format's scores
     */
    static int run(EvalPlan plan, SparkSession spark, ResultsDirectory results, PrintWriter out, PrintWriter err)
            throws IOException {
        ScoringPlan scoring = plan.scoring().orElseThrow();
        ResultsDirectory scores = new ResultsDirectory(spark, scoring.scoresOut(plan.out()));
        String format = RewardScoring.formatName(scoring.encoding(plan.maxNewTokens()));
        List<JsonObject> before = reportRows(scores);
        Set<String> done = new HashSet<>();
        for (JsonObject o : before) {
            check(o, "reward_model", scoring.rewardModel().model(), scores);
            check(o, "reward_format", format, scores);
            done.add(key(o));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Set<String>> scored = jsc.broadcast(done);
        JavaRDD<String> todo = results.lines().javaRDD().filter(line -> !line.isBlank()
                && !scored.value().contains(key(JsonParser.parseString(line).getAsJsonObject())));
        long n = todo.count();
        LongAccumulator rows = jsc.sc().longAccumulator("amulet scored rows");
        LongAccumulator truncated = jsc.sc().longAccumulator("amulet truncated rows");
        CollectionAccumulator<String> failed = jsc.sc().collectionAccumulator("amulet rows left out");
        long start = System.nanoTime();
        if (n > 0) {
            int partitions = (int) Math.max(jsc.defaultParallelism(), Math.ceil(n / (scoring.batch() * 4.0)));
            err.println("score: " + n + " rows to score (" + before.size() + " already in " + scores.location()
                    + ") in " + partitions + " Spark tasks, one reward model per executor");
            err.flush();
            JavaRDD<String> lines = todo.repartition(partitions)
                    .mapPartitions(new ScorePartition(plan, results.location(), rows, truncated, failed));
            scores.append(spark.createDataset(lines.rdd(), Encoders.STRING()));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Set<String> leftOut = new LinkedHashSet<>(failed.value()); // a retried task reports its rows again
        List<JsonObject> all = reportRows(scores);
        err.println(String.format(Locale.ROOT, "score: %d new rows in %s (%d already there), %d truncated, %d left "
                + "out, %.4g rows/s", all.size() - before.size(), scores.location(), before.size(), truncated.value(),
                leftOut.size(), (all.size() - before.size()) / Math.max(seconds, 1e-9)));
        leftOut.forEach(l -> err.println("score: left out " + l));
        RewardReport report = RewardScoring.report(all, scoring.candidates());
        if (!scores.location().contains("://")) {
            java.nio.file.Path chart = java.nio.file.Path.of(scores.location() + ".svg");
            Files.writeString(chart, report.chart("reward model: " + scoring.rewardModel().model() + "  \u00b7  input "
                    + format + "  \u00b7  counts are wins/ties/losses per question"), StandardCharsets.UTF_8);
            err.println("score: chart " + chart);
        }
        err.flush();
        out.println();
        out.print(report.paperTable(plan.methods().stream().map(AlignmentMethod::id).toList()));
        out.flush();
        return leftOut.isEmpty() ? SparkEvalRunner.OK : SparkEvalRunner.FAILURE;
    }

    /** Every scored row reduced (on the executors) to the fields the report needs. */
    private static List<JsonObject> reportRows(ResultsDirectory scores) throws IOException {
        List<String> lines = scores.lines().map((MapFunction<String, String>) SparkScoring::slim, Encoders.STRING())
                .collectAsList();
        List<JsonObject> out = new ArrayList<>(lines.size());
        Set<String> keys = new HashSet<>();
        for (String l : lines) {
            if (!l.isEmpty()) {
                JsonObject o = JsonParser.parseString(l).getAsJsonObject();
                if (keys.add(key(o))) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    private static String slim(String line) {
        if (line.isBlank()) {
            return "";
        }
        JsonObject row = JsonParser.parseString(line).getAsJsonObject();
        JsonObject slim = new JsonObject();
        for (String f : REPORT_FIELDS) {
            JsonElement v = row.get(f);
            if (v != null) {
                slim.add(f, v);
            }
        }
        return slim.toString();
    }

    private static String key(JsonObject row) {
        return row.get("index").getAsInt() + "\u0000" + row.get("method").getAsString() + "\u0000"
                + row.get("preference").getAsString();
    }

    private static void check(JsonObject row, String field, String now, ResultsDirectory scores) {
        JsonElement v = row.get(field);
        if (v != null && v.isJsonPrimitive() && !v.getAsString().equals(now)) {
            throw new EvalUsageException("--scores-out: " + scores.location() + " holds scores with " + field + " '"
                    + v.getAsString() + "', this run's is '" + now + "': write to another --scores-out (a scores "
                    + "directory holds one run)");
        }
    }
}
