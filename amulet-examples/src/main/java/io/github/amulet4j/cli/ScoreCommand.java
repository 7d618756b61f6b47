package io.github.amulet4j.cli;

import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardScoring;
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
            description = "The reward model: a local folder, a GGUF file with a classification head "
                    + "(cls.output.weight), or a Hub id.")
    String rewardModel;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "scores.jsonl",
            description = "Scores file (JSON lines); rows already there are kept and not scored again "
                    + "(default: ${DEFAULT-VALUE}).")
    Path outFile;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Conversations scored in one forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--paper-max-tokens", paramLabel = "N",
            description = "The length --paper-format cuts to (the script's max_new_tokens); default: the "
                    + "max_new_tokens recorded in the results' settings files.")
    Integer paperMaxTokens;

    @Option(names = "--chart", paramLabel = "FILE",
            description = "SVG bar chart of the win rates (default: --out with .svg instead of .jsonl).")
    Path chartFile;

    @Option(names = "--json", description = "Print the report as one JSON object instead of the table.")
    boolean json;

    @Mixin
    RewardFlags rewardFlags;

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
        Path chart = chartFile != null ? chartFile : JudgeCommand.chartPath(outFile);
        try (RewardModel model = RewardModel.load(options)) {
            return new ScoreRun(outFile, chart, encoding, rewardFlags.objective, rewardFlags.candidates, batch, json,
                    null).run(model, inputs, out, err);
        }
    }

    /** The input format the flags ask for. */
    private RewardEncoding encoding() throws java.io.IOException {
        RewardEncoding.Builder b = RewardEncoding.builder().truncateToContext(rewardFlags.truncate);
        if (paperMaxTokens != null && !rewardFlags.paperFormat) {
            throw new UsageException("--paper-max-tokens: only with --paper-format");
        }
        if (rewardFlags.paperFormat) {
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
}
