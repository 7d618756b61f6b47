package io.github.amulet4j.transformer.weights;

import java.util.Random;

/**
 * Run in a child JVM with narrower vectors (e.g. {@code -XX:UseAVX=2}: 8 float lanes instead of AVX-512's 16): prints
 * the lane count and, per format, column count and shape, the largest error of {@link WeightMatrix#multiply} against
 * the naive double-precision product, relative to the tolerance {@link WeightKernelsTest} uses.
 */
public final class NarrowVectorsMain {

    private NarrowVectorsMain() {
    }

    public static void main(String[] args) {
        System.out.println("lanes=" + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length());
        Random random = new Random(11);
        double worst = 0;
        int[][] shapes = {{5, 64}, {17, 96}, {9, 896}, {5, 2080}, {3, 4864}};
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int in = shape[1];
                WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, rows * in), rows, in);
                float[] w = m.toFloatArray();
                for (int n : new int[] {1, 2, 3, 17}) {
                    float[] x = RandomValues.gaussian(random, n * in);
                    float[] want = WeightKernelsTest.naive(w, rows, in, x, n);
                    float[] got = new float[n * rows];
                    m.multiply(x, n, got, 0, rows / 2);
                    m.multiply(x, n, got, rows / 2, rows);
                    for (int i = 0; i < want.length; i++) {
                        double tol = 2e-6 * (1 + Math.abs(want[i])) * Math.sqrt(in);
                        worst = Math.max(worst, Math.abs(want[i] - got[i]) / tol);
                    }
                }
            }
        }
        System.out.println("worstOverTolerance=" + worst);
    }
}
