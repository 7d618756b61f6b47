package io.github.amulet4j.transformer.weights;

import java.util.Random;

/**
 * Run by {@link KQuantKernelsTest} in a child JVM with {@code -Damulet.native.disable=true}: a Q4_K, a Q5_K and a Q6_K
 * matrix multiplied without the native library (the Java kernel), printing whether a native product was offered and
 * the largest difference from a float64 product of the weights as amulet-formats decodes them, relative to the sum of
 * the terms' magnitudes.
 */
public final class NoNativeKQuantMain {

    private NoNativeKQuantMain() {
    }

    public static void main(String[] args) {
        System.out.println("available=" + KQuantKernels.available());
        Random random = new Random(9);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K}) {
            int rows = 9;
            int cols = 768;
            byte[] raw = KQuantKernelsTest.randomBlocks(f, rows, cols, random);
            WeightMatrix m = KQuantKernelsTest.matrix(f, raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES);
            float[] w = KQuantKernelsTest.dequantized(f, raw, rows, cols);
            float[] x = new float[2 * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] y = new float[2 * rows];
            m.multiply(x, 2, y, 0, rows);
            double worst = 0;
            for (int c = 0; c < 2; c++) {
                for (int r = 0; r < rows; r++) {
                    double exact = 0;
                    double magnitude = 0;
                    for (int i = 0; i < cols; i++) {
                        exact += (double) w[r * cols + i] * x[c * cols + i];
                        magnitude += Math.abs((double) w[r * cols + i] * x[c * cols + i]);
                    }
                    worst = Math.max(worst, Math.abs(exact - y[c * rows + r]) / magnitude);
                }
            }
            System.out.println(f + " nativeProduct=" + m.nativeProduct(2) + " relativeError=" + worst);
        }
    }
}
