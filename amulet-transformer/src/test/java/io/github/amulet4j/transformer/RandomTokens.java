package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import java.util.SplittableRandom;

/** Prompts of random token ids for the tests that run a model: the same ids for the same seed. */
final class RandomTokens {

    private RandomTokens() {
    }

    /** {@code n} ids drawn uniformly from the vocabulary of {@code c}. */
    static int[] of(ModelConfig c, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(c.vocabSize());
        }
        return t;
    }
}
