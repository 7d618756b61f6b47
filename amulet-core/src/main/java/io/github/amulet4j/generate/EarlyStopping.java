package io.github.amulet4j.generate;

import java.util.Locale;

/**
 * When beam search stops before {@code maxNewTokens}: Hugging Face's {@code early_stopping} ({@code true},
 * {@code false}, {@code "never"}). Each rule waits until {@code numBeams} hypotheses are finished; then, with
 * {@code best} the highest sum of log-probabilities among the live beams and {@code worst} the lowest score
 * among the finished hypotheses:
 */
public enum EarlyStopping {
    /** {@code true}: stop as soon as {@code numBeams} hypotheses are finished. */
    WHEN_FULL("true"),
    /**
     * {@code false} (Hugging Face's default): stop when {@code best / length^lengthPenalty <= worst}, with
     * {@code length} the tokens generated so far (a heuristic: with a positive length penalty a longer
     * hypothesis could still score higher).
     */
    HEURISTIC("false"),
    /**
     * {@code "never"}: stop only when no live beam can beat {@code worst}: the bound divides {@code best} by
     * {@code maxNewTokens^lengthPenalty} when the length penalty is positive, else by
     * {@code length^lengthPenalty} (log-probabilities never rise).
     */
    NEVER("never");

    private final String id;

    EarlyStopping(String id) {
        this.id = id;
    }

    /** Hugging Face's value: {@code true}, {@code false} or {@code never}. */
    public String id() {
        return id;
    }

    /**
     * The rule for Hugging Face's value {@code true}, {@code false} or {@code never} (case-insensitive).
     *
     * @throws IllegalArgumentException listing the valid values
     */
    public static EarlyStopping parse(String value) {
        if (value != null) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            for (EarlyStopping e : values()) {
                if (e.id.equals(v)) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("unknown early stopping '" + value + "'; valid: true, false, never");
    }
}
