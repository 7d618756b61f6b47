package io.github.amulet4j.decode;

/** Keeps the {@code k} largest logits (ties broken by the lower token id) and masks the rest to {@code -inf}. */
public final class TopK implements LogitsProcessor {

    private final int k;

    public TopK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("top-k must be >= 1, got " + k);
        }
        this.k = k;
    }

    @Override
    public void process(float[] logits, int off, int vocab) {
        if (k >= vocab) {
            return;
        }
        int[] order = LogitsMath.sortedDescending(logits, off, vocab);
        for (int j = k; j < order.length; j++) {
            logits[off + order[j]] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public String toString() {
        return "TopK[" + k + "]";
    }
}
