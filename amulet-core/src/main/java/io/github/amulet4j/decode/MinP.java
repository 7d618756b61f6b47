package io.github.amulet4j.decode;

/**
 * Min-p filter (Hugging Face's {@code min_p}): masks to {@code -inf} every token whose probability is below
 * {@code minP} times the probability of the most likely token, i.e. whose logit is below
 * {@code max + ln(minP)}. The most likely token always stays.
 */
public final class MinP implements LogitsProcessor {

    private final double minP;
    private final double logMinP;

    /** @param minP in {@code [0, 1]}; 0 keeps every token */
    public MinP(double minP) {
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        }
        this.minP = minP;
        this.logMinP = Math.log(minP);
    }

    @Override
    public void process(float[] logits, int off, int vocab) {
        float max = LogitsMath.max(logits, off, vocab);
        if (max == Float.NEGATIVE_INFINITY || minP == 0) {
            return;
        }
        double threshold = max + logMinP;
        for (int i = off, end = off + vocab; i < end; i++) {
            if (logits[i] < threshold) {
                logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    @Override
    public String toString() {
        return "MinP[" + minP + "]";
    }
}
