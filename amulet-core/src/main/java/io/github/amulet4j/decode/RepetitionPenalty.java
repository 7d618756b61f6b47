package io.github.amulet4j.decode;

import java.util.BitSet;

/**
 * Hugging Face's {@code repetition_penalty} (CTRL's): every token that occurs in the history (prompt and
 * generated tokens) has its logit divided by the penalty when positive and multiplied by it when negative,
 * once however often it occurs. A penalty above 1 discourages repetition; 1 changes nothing.
 */
public final class RepetitionPenalty implements HistoryProcessor {

    private final double penalty;
    private final float factor;

    /** @param penalty finite and {@code > 0} */
    public RepetitionPenalty(double penalty) {
        if (!(penalty > 0) || !Double.isFinite(penalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0, got " + penalty);
        }
        this.penalty = penalty;
        this.factor = (float) penalty;
    }

    @Override
    public void process(TokenHistory history, float[] logits, int off, int vocab) {
        BitSet seen = new BitSet();
        for (int i = 0, n = history.length(); i < n; i++) {
            int t = history.get(i);
            if (t < 0 || t >= vocab || seen.get(t)) {
                continue;
            }
            seen.set(t);
            float v = logits[off + t];
            logits[off + t] = v < 0 ? v * factor : v / factor;
        }
    }

    @Override
    public String toString() {
        return "RepetitionPenalty[" + penalty + "]";
    }
}
