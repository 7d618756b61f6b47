package io.github.amulet4j.cli;

import picocli.CommandLine.Option;

import java.util.List;

/** The reward-scoring flags {@code score} and {@code eval --score} share. */
final class RewardFlags {

    @Option(names = "--objective", paramLabel = "N|NAME", defaultValue = "auto",
            description = "The label whose output is 'reward', by index or name; auto: ArmoRM's objective 6 "
                    + "(ultrafeedback-instruction_following, as the paper), else 0 (default: ${DEFAULT-VALUE}).")
    String objective;

    @Option(names = "--candidate", paramLabel = "LIST", split = ",", hideParamSyntax = true, defaultValue = "amulet",
            description = "Methods whose win rates over every other method are reported (default: ${DEFAULT-VALUE}).")
    List<String> candidates;

    @Option(names = "--paper-format", description = "Give the reward model exactly what the paper's "
            + "evals/rm_evals.py gives it: the chat template rendered to text, tokenized again with special tokens "
            + "(ArmoRM then reads <|begin_of_text|> twice) and cut to the generation length. Default: the reward "
            + "model's documented use (the template tokenized once, nothing cut).")
    boolean paperFormat;

    @Option(names = "--truncate", description = "Score a conversation longer than the reward model's context on its "
            + "first tokens (counted in the summary) instead of leaving it out with an error.")
    boolean truncate;
}
