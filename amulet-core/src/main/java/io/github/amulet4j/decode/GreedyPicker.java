package io.github.amulet4j.decode;

import java.util.SplittableRandom;

/** Argmax (the lowest token id on ties). Needs no exp. */
public final class GreedyPicker implements TokenPicker {

    public static final GreedyPicker INSTANCE = new GreedyPicker();

    private GreedyPicker() {
    }

    @Override
    public int pick(float[] logits, int off, int vocab, SplittableRandom rng) {
        int t = LogitsMath.argmax(logits, off, vocab);
        if (t < 0) {
            throw new IllegalStateException("cannot pick a token: every logit is -inf");
        }
        return t;
    }

    @Override
    public String toString() {
        return "Greedy";
    }
}
