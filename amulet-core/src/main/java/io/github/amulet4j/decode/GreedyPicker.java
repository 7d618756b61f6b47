package io.github.amulet4j.decode;

import java.util.SplittableRandom;

/** Argmax (the lowest token id on ties); NaN is an error. Needs no exp. */
public final class GreedyPicker implements TokenPicker {

    public static final GreedyPicker INSTANCE = new GreedyPicker();

    private GreedyPicker() {
    }

    @Override
    public int pick(float[] logits, int off, int vocab, SplittableRandom rng) {
        int best = -1;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float v = logits[off + i];
            if (v > bestV) {
                bestV = v;
                best = i;
            } else if (v != v) {
                throw new IllegalStateException("cannot pick a token: NaN at token " + i
                        + " (a processor of the decoding chain produced it)");
            }
        }
        if (best < 0) {
            throw new IllegalStateException("cannot pick a token: every logit is -inf");
        }
        return best;
    }

    @Override
    public String toString() {
        return "Greedy";
    }
}
