package io.github.amulet4j.align;

/**
 * One method's per-token step: turns a request's preference-stream and base-stream logits into one row
 * of adjusted logits (log-probabilities up to a constant). Rows are slices of float arrays so that a
 * batch {@code [rows, vocab]} block is processed without copies.
 *
 * <p>Contract for every implementation (ALGORITHM.md section 4): a token that is {@code -inf} in a
 * stream the method reads stays {@code -inf}; NaN or {@code +inf} input raises {@link LogitsException}
 * naming the stream; output never holds NaN. Implementations are stateless and thread-safe.
 */
public interface AlignmentStep {

    /** Stream names used in {@link LogitsException}. */
    String BASE_STREAM = "base";
    /** Stream names used in {@link LogitsException}. */
    String PREFERENCE_STREAM = "preference";

    /**
     * Writes the adjusted logits of one request into {@code out[outOff .. outOff+vocab)}.
     *
     * @param pref    preference-stream logits (ignored by methods that do not read it; may then be null)
     * @param base    base-stream logits (ignored by methods that do not read it; may then be null)
     * @param vocab   number of real tokens to process (rows beyond the tokenizer's vocabulary are left out)
     * @throws LogitsException on NaN/+inf input or when every token ends up masked
     */
    void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab);

    /** Whether {@link #apply} reads the preference stream. */
    boolean readsPreference();

    /** Whether {@link #apply} reads the base stream. */
    boolean readsBase();

    /**
     * Convenience for whole rows: the adjusted logits of {@code pref} and {@code base}.
     *
     * @throws IllegalArgumentException if both rows are read and their lengths differ
     */
    default float[] apply(float[] pref, float[] base) {
        int vocab = StepChecks.vocabOf(this, pref, base);
        float[] out = new float[vocab];
        apply(pref, 0, base, 0, out, 0, vocab);
        return out;
    }
}
