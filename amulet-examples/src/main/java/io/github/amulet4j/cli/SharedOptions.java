package io.github.amulet4j.cli;

import io.github.amulet4j.djl.ModelOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options shared by {@code generate}, {@code chat}, {@code compare}, {@code eval} and {@code prompt}.
 * Their names are a contract (scripts use them): see issue 4 and the user guide. Values left unset take
 * the library's defaults (the paper's).
 */
public final class SharedOptions {

    /** The model used when {@code --model} is absent. */
    public static final String DEFAULT_MODEL = ModelOptions.DEFAULT_MODEL;

    @Option(names = "--model", paramLabel = "PATH|HUB_ID", defaultValue = DEFAULT_MODEL,
            description = "A local Hugging Face model folder or a Hub id (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--revision", paramLabel = "REV",
            description = "Hub revision (branch, tag or commit) when --model is a Hub id (default: main).")
    String revision;

    @Option(names = "--preference", paramLabel = "TEXT|PRESET",
            description = "The preference: one of the paper's presets (creative, sycophantic, verbose, complex, "
                    + "formal, pleasant, concise, uplifting), else taken as free text.")
    String preference;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt of the conversation.")
    String system;

    @Option(names = "--prompt-style", paramLabel = "default|paper", defaultValue = "default",
            description = "How the preference enters the prompt: 'default' appends it to the system message, "
                    + "'paper' uses the paper's system prompt wrapper (default: ${DEFAULT-VALUE}).")
    String promptStyle;

    @Option(names = "--method", paramLabel = "base|pref|la|amulet|beam", defaultValue = "amulet",
            description = "Decoding method (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--iterations", paramLabel = "T", description = "Amulet iterations T (default 60).")
    Integer iterations;

    @Option(names = "--eta", description = "Amulet learning rate eta (default 10).")
    Double eta;

    @Option(names = "--alpha", description = "Amulet reward scale alpha (default 2).")
    Double alpha;

    @Option(names = "--lambda", description = "Amulet regulariser lambda (default 2).")
    Double lambda;

    @Option(names = "--ratio", paramLabel = "RHO", description = "Linear alignment ratio rho for --method la (default 2).")
    Double ratio;

    @Option(names = "--beams", paramLabel = "N", description = "Number of beams for --method beam (default 16).")
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
            + "sampling option is given (--do-sample, --temperature above 0, --top-k, --top-p, --seed).")
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

    @Option(names = "--seed", description = "Seed for sampling (same seed, same tokens); turns sampling on.")
    Long seed;

    @Mixin
    RuntimeFlags runtime;
}
