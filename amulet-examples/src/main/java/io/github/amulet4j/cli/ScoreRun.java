package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardReport;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.formats.json.Json;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One scoring run into a scores file, as {@code score} and {@code eval --score} do it: the rows not scored yet, a
 * summary line on stderr (new rows, truncated, left out, rows/s), the report of every row of the file on stdout and
 * its chart.
 *
 * @param scores     the scores file (resumable)
 * @param chart      the SVG chart's file
 * @param encoding   the input format
 * @param objective  the label of {@code reward} ({@link RewardScoring#objectiveIndex})
 * @param candidates the methods whose win rates are reported
 * @param batch      conversations per forward pass
 * @param json       the report as JSON instead of a table
 * @param paperOrder the methods' order of the paper-style table, or null for the long table
 */
record ScoreRun(Path scores, Path chart, RewardEncoding encoding, String objective, List<String> candidates, int batch,
                boolean json, List<String> paperOrder) {

    /**
     * Scores {@code inputs} with {@code model}.
     *
     * @return {@link AmuletCli#OK}, or {@link AmuletCli#FAILURE} when a row was left out
     */
    int run(RewardModel model, List<RewardInput> inputs, PrintWriter out, PrintWriter err) throws IOException {
        int objectiveIndex;
        try {
            objectiveIndex = RewardScoring.objectiveIndex(objective, model);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        RewardScoring.Outcome outcome;
        long start = System.nanoTime();
        try (ResultsFile file = open()) {
            try {
                outcome = RewardScoring.run(model, inputs, file, batch, objectiveIndex, encoding, done -> {
                    err.println("score: " + done + " rows scored");
                    err.flush();
                });
            } catch (IllegalArgumentException e) {
                throw new UsageException("scores file: " + e.getMessage(), e);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        err.println("score: " + outcome.scored() + " new rows in " + scores + " (" + outcome.alreadyThere()
                + " already there), " + outcome.truncated() + " truncated, " + outcome.failed().size()
                + " left out, input " + encoding + ", " + String.format(Locale.ROOT, "%.4g rows/s",
                outcome.scored() / Math.max(seconds, 1e-9)));
        for (String skipped : outcome.failed()) {
            err.println("score: left out " + skipped);
        }
        List<JsonObject> all;
        try (ResultsFile f = ResultsFile.open(scores)) {
            all = f.existingRows(); // this run's rows and the earlier runs'
        }
        RewardReport report = RewardScoring.report(all, candidates);
        Files.writeString(chart, report.chart("reward model: " + model.name() + "  \u00b7  reward: "
                + model.config().labels().get(objectiveIndex) + "  \u00b7  input " + encoding
                + "  \u00b7  counts are wins/ties/losses per question"), StandardCharsets.UTF_8);
        err.println("score: chart " + chart);
        err.flush();
        out.print(json ? Json.write(report.json()) + "\n" : paperOrder != null ? report.paperTable(paperOrder)
                : report.table());
        out.flush();
        return outcome.failed().isEmpty() ? AmuletCli.OK : AmuletCli.FAILURE;
    }

    private ResultsFile open() throws IOException {
        try {
            return ResultsFile.open(scores);
        } catch (IllegalArgumentException e) {
            throw new UsageException("scores file: " + e.getMessage(), e);
        }
    }
}
