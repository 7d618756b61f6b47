package io.github.amulet4j.cli;

import picocli.CommandLine.Option;

/**
 * The generation flags of {@code generate}, {@code chat}, {@code compare} and {@code eval}: the Amulet and LA
 * parameters, beams, the length and the decoding (sampling) flags. Their names are a contract (scripts use
 * them): see the user guide. Values left unset take the library's defaults (the paper's). The model, runtime,
 * conversation, preference and method flags are mixins of their own ({@link ModelFlags}, {@link RuntimeFlags},
 * {@link ConversationFlags}, {@link PreferenceFlags}, {@link MethodFlag}), so each command offers only what it uses.
 */
public final class SharedOptions {

    @Option(names = "--iterations", paramLabel = "T", description = "Amulet iterations T (default: 60).")
    Integer iterations;

    @Option(names = "--eta", description = "Amulet learning rate eta (default: 10).")
    Double eta;

    @Option(names = "--alpha", description = "Amulet reward scale alpha (default: 2).")
    Double alpha;

    @Option(names = "--lambda", description = "Amulet regulariser lambda (default: 2).")
    Double lambda;

    @Option(names = "--ratio", paramLabel = "RHO", description = "Linear alignment ratio rho for --method la (default: 2).")
    Double ratio;

    @Option(names = "--beams", paramLabel = "N", description = "Number of beams for --method beam (default: 16).")
    Integer beams;

    @Option(names = "--length-penalty", paramLabel = "X", description = "Beam score = sum of log-probabilities / "
            + "length^X; above 0 favours longer answers (default 1).")
    Double lengthPenalty;

    @Option(names = "--early-stopping", paramLabel = "true|false|never", description = "When beam search stops "
            + "(Hugging Face's early_stopping): true as soon as --beams answers are finished, false when no live beam "
            + "is likely to beat them, never when none can (default false).")
    String earlyStopping;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "128",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--greedy", description = "Greedy decoding (argmax), the default: sampling is on only when a "
            + "sampling option is given (--do-sample, --temperature above 0, --top-k, --top-p, --min-p, --seed).")
    boolean greedy;

    @Option(names = "--do-sample", description = "Sample the tokens (Hugging Face's do_sample), with temperature 1 "
            + "unless --temperature says otherwise.")
    boolean doSample;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (>= 0); above 0 it turns "
            + "sampling on, 0 means greedy decoding.")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus filter, in (0, 1]: keep the smallest set of "
            + "most likely tokens with probability >= P; turns sampling on.")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Keep only the K most likely tokens (0 = all); turns "
            + "sampling on.")
    Integer topK;

    @Option(names = "--min-p", paramLabel = "P", description = "Min-p filter, in [0, 1]: drop tokens less likely than "
            + "P times the most likely one (0 = off); turns sampling on.")
    Double minP;

    @Option(names = "--repetition-penalty", paramLabel = "X", description = "Hugging Face's repetition penalty (> 0; "
            + "1 = off): the logits of tokens already in the prompt or the answer are divided by X when positive, "
            + "multiplied when negative, in each stream before the Amulet step.")
    Double repetitionPenalty;

    @Option(names = "--no-repeat-ngram-size", paramLabel = "N", description = "Never repeat an N-token sequence of the "
            + "prompt or the answer (0 = off), in each stream before the Amulet step.")
    Integer noRepeatNgramSize;

    @Option(names = "--seed", description = "Seed for sampling (same seed, same tokens); turns sampling on.")
    Long seed;

}
