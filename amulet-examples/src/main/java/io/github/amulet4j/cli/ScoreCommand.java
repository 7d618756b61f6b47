package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardReport;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.formats.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code amulet score}: the paper's metric. Scores eval results with a reward model (the user turn: the question, a
 * space and the preference's text; the assistant turn: the answer), writes one scored row per input row, resumably,
 * and prints the mean reward per preference and method and the candidates' win rates over the other methods.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score eval results with a reward model (a Hugging Face sequence-classification checkpoint: "
                + "Llama, Mistral, Qwen2 or Qwen3 body with a score head) and report mean rewards and win rates.")
public final class ScoreCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RESULTS.jsonl", arity = "1..*", description = "eval results files (one or more).")
    List<Path> results;

    @Option(names = "--reward-model", paramLabel = "PATH|HUB_ID", required = true,
            description = "The reward model: a local folder or a Hub id.")
    String rewardModel;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "scores.jsonl",
            description = "Scores file (JSON lines); rows already there are kept and not scored again "
                    + "(default: ${DEFAULT-VALUE}).")
    Path outFile;

    @Option(names = "--objective", paramLabel = "N|NAME", defaultValue = "auto",
            description = "The label whose output is 'reward', by index or name; auto: ArmoRM's objective 6 "
                    + "(ultrafeedback-instruction_following, as the paper), else 0 (default: ${DEFAULT-VALUE}).")
    String objective;

    @Option(names = "--candidate", paramLabel = "LIST", split = ",", hideParamSyntax = true, defaultValue = "amulet",
            description = "Methods whose win rates over every other method are reported (default: ${DEFAULT-VALUE}).")
    List<String> candidates;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Conversations scored in one forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--paper-format", description = "Give the reward model exactly what the paper's "
            + "evals/rm_evals.py gives it: the chat template rendered to text, tokenized again with special tokens "
            + "(ArmoRM then reads <|begin_of_text|> twice) and cut to the generation length. Default: the reward "
            + "model's documented use (the template tokenized once, nothing cut).")
    boolean paperFormat;

    @Option(names = "--paper-max-tokens", paramLabel = "N",
            description = "The length --paper-format cuts to (the script's max_new_tokens); default: the "
                    + "max_new_tokens recorded in the results' settings files.")
    Integer paperMaxTokens;

    @Option(names = "--truncate", description = "Score a conversation longer than the reward model's context on its "
            + "first tokens (counted in the summary) instead of leaving it out with an error.")
    boolean truncate;

    @Option(names = "--chart", paramLabel = "FILE",
            description = "SVG bar chart of the win rates (default: --out with .svg instead of .jsonl).")
    Path chartFile;

    @Option(names = "--json", description = "Print the report as one JSON object instead of the table.")
    boolean json;

    @Mixin
    RuntimeFlags runtimeFlags;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @ParentCommand
    AmuletCli cli;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (batch < 1 || batch > 4096) {
            throw new UsageException("--batch: must be in [1, 4096], got " + batch);
        }
        List<RewardInput> inputs;
        RewardEncoding encoding;
        try {
            inputs = RewardScoring.read(results);
            encoding = encoding();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        ModelFlags flags = new ModelFlags();
        flags.model = rewardModel;
        ModelOptions options = Options.model(flags, runtimeFlags.runtime()).toBuilder().hubSettings(cli.hubSettings())
                .build();
        try (RewardModel model = RewardModel.load(options); ResultsFile file = openOut()) {
            int objectiveIndex = objectiveIndex(model.config().labels(), model.config().gating() != null);
            long start = System.nanoTime();
            RewardScoring.Outcome outcome;
            try {
                outcome = RewardScoring.run(model, inputs, file, batch, objectiveIndex, encoding, done -> {
                    err.println("score: " + done + " rows scored");
                    err.flush();
                });
            } catch (IllegalArgumentException e) {
                throw new UsageException("--out: " + e.getMessage(), e);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            err.println("score: " + outcome.scored() + " new rows in " + outFile + " (" + outcome.alreadyThere()
                    + " already there), " + outcome.truncated() + " truncated, " + outcome.failed().size()
                    + " left out, input " + encoding + ", " + String.format(java.util.Locale.ROOT, "%.2f rows/s",
                    outcome.scored() / Math.max(seconds, 1e-9)));
            for (String skipped : outcome.failed()) {
                err.println("score: left out " + skipped);
            }
            err.flush();
            file.close(); // the report reads every row back, this run's included
            List<JsonObject> all = readBack();
            RewardReport report = RewardScoring.report(all, candidates);
            Path chart = chartFile != null ? chartFile : JudgeCommand.chartPath(outFile);
            java.nio.file.Files.writeString(chart, report.chart("reward model: " + model.name() + "  \u00b7  reward: "
                    + model.config().labels().get(objectiveIndex) + "  \u00b7  input " + encoding
                    + "  \u00b7  counts are wins/ties/losses per question"), java.nio.charset.StandardCharsets.UTF_8);
            err.println("score: chart " + chart);
            out.print(json ? Json.write(report.json()) + "\n" : report.table());
            out.flush();
            return outcome.failed().isEmpty() ? AmuletCli.OK : AmuletCli.FAILURE;
        }
    }

    /** The input format the flags ask for. */
    private RewardEncoding encoding() throws java.io.IOException {
        RewardEncoding.Builder b = RewardEncoding.builder().truncateToContext(truncate);
        if (paperMaxTokens != null && !paperFormat) {
            throw new UsageException("--paper-max-tokens: only with --paper-format");
        }
        if (paperFormat) {
            int n;
            if (paperMaxTokens != null) {
                n = paperMaxTokens;
            } else {
                java.util.OptionalInt recorded = RewardScoring.recordedMaxNewTokens(results);
                if (recorded.isEmpty()) {
                    throw new UsageException("--paper-format: no results file has a settings file recording "
                            + "max_new_tokens (" + io.github.amulet4j.eval.EvalSettings.fileFor(results.get(0))
                            + "); give the length with --paper-max-tokens N");
                }
                n = recorded.getAsInt();
            }
            if (n < 1) {
                throw new UsageException("--paper-max-tokens: must be >= 1, got " + n);
            }
            b.paper(n);
        }
        return b.build();
    }

    private ResultsFile openOut() throws java.io.IOException {
        try {
            return ResultsFile.open(outFile);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--out: " + e.getMessage(), e);
        }
    }

    private List<JsonObject> readBack() throws java.io.IOException {
        try (ResultsFile f = ResultsFile.open(outFile)) {
            return f.existingRows();
        }
    }

    private int objectiveIndex(List<String> labels, boolean armoRm) {
        if (objective.equals("auto")) {
            return armoRm ? Math.min(6, labels.size() - 1) : 0;
        }
        int i = labels.indexOf(objective);
        if (i >= 0) {
            return i;
        }
        try {
            i = Integer.parseInt(objective.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--objective: '" + objective + "' is neither an index nor a label of the reward"
                    + " model " + labels);
        }
        if (i < 0 || i >= labels.size()) {
            throw new UsageException("--objective: " + i + " is outside the reward model's " + labels.size()
                    + " label(s) " + labels);
        }
        return i;
    }
}
