package io.github.amulet4j.transformer.weights;

import java.util.Random;

/** Random weights and activations for the kernel tests. */
final class RandomValues {

    private RandomValues() {
    }

    /** {@code n} standard Gaussian values from {@code random}, rounded to float32. */
    static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
