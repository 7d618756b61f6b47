package io.github.amulet4j.decode;

import java.util.SplittableRandom;

/** Draws a token from {@code softmax(logits)} with the request's random generator. */
public final class RandomPicker implements TokenPicker {

    public static final RandomPicker INSTANCE = new RandomPicker();

    private RandomPicker() {
    }

    @Override
    public int pick(float[] logits, int off, int vocab, SplittableRandom rng) {
        float max = LogitsMath.max(logits, off, vocab);
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalStateException("cannot pick a token: every logit is -inf");
        }
        if (!Float.isFinite(max)) {
            throw new IllegalStateException("cannot draw a token: the logits hold " + max
                    + " (a processor of the decoding chain produced it)");
        }
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            total += Math.exp(logits[off + i] - max);
        }
        double u = rng.nextDouble() * total;
        double cum = 0;
        int last = -1;
        for (int i = 0; i < vocab; i++) {
            float v = logits[off + i];
            if (v == Float.NEGATIVE_INFINITY) {
                continue;
            }
            cum += Math.exp(v - max);
            last = i;
            if (u < cum) {
                return i;
            }
        }
        return last; // rounding at the very top of the range
    }

    @Override
    public String toString() {
        return "RandomDraw";
    }
}
