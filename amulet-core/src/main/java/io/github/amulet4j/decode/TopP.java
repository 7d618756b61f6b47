package io.github.amulet4j.decode;

/**
 * Nucleus filter: keeps the smallest set of most likely tokens whose probability mass reaches {@code p}
 * (at least one token; ties broken by the lower token id) and masks the rest to {@code -inf}.
 */
public final class TopP implements LogitsProcessor {

    private final double p;

    public TopP(double p) {
        if (!(p > 0 && p <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + p);
        }
        this.p = p;
    }

    @Override
    public void process(float[] logits, int off, int vocab) {
        if (p >= 1.0) {
            return;
        }
        int[] order = LogitsMath.sortedDescending(logits, off, vocab);
        if (order.length == 0) {
            return;
        }
        double max = logits[off + order[0]];
        double total = 0;
        for (int idx : order) {
            total += Math.exp(logits[off + idx] - max);
        }
        double target = p * total;
        double cum = 0;
        int keep = order.length;
        for (int j = 0; j < order.length; j++) {
            cum += Math.exp(logits[off + order[j]] - max);
            if (cum >= target) {
                keep = j + 1;
                break;
            }
        }
        for (int j = keep; j < order.length; j++) {
            logits[off + order[j]] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public String toString() {
        return "TopP[" + p + "]";
    }
}
