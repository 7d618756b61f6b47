package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The native F32 kernels, every variant this CPU has, against a naive float64 product (only float32 summation error
 * allowed), the Java kernel and the scalar C variant; on the heap and off it; each column bit for bit the one it gets
 * alone.
 */
class NativeFloat32KernelsTest {

    /**
     * Rows x inputs: a single weight, widths below and between the vector and unroll sizes (8, 16, 32, 64), odd rows,
     * panels (2081: 1024 + 1024 + 33; 4864).
     */
    private static final int[][] SHAPES = {{1, 1}, {3, 7}, {2, 8}, {5, 33}, {7, 63}, {17, 65}, {4, 100}, {13, 129},
            {33, 896}, {5, 1023}, {6, 2081}, {9, 4864}};

    @Test
    void theKernelsAreLinkedWhereTheLibraryIs() {
        assertEquals(NativeKernels.available(), NativeFloat32Kernels.available());
        assertEquals(NativeKernels.available(), NativeKernels.supports(WeightFormat.F32));
    }

    @Test
    void everyVariantMatchesTheNaiveProductAndTheJavaKernel() {
        Assumptions.assumeTrue(NativeFloat32Kernels.available(), NativeKernels.unavailableReason());
        int initial = NativeFloat32Kernels.variant();
        try {
            for (int[] shape : SHAPES) {
                Random random = new Random(31L * shape[0] + shape[1]);
                float[] values = RandomValues.gaussian(random, shape[0] * shape[1]);
                WeightMatrix heap = WeightMatrix.of(WeightFormat.F32, values, shape[0], shape[1]);
                WeightMatrix off = WeightMatrix.of(WeightFormat.F32, values, shape[0], shape[1],
                        WeightMatrix.Storage.NATIVE);
                for (int n : new int[] {1, 2, 3, 6}) {
                    float[] x = RandomValues.gaussian(random, n * shape[1]);
                    NativeVariants.agreeWithScalar(NativeVariants.FLOAT32, n * shape[0], 1e-5, v -> true,
                            heap + " n " + n, (variant, magnitude) -> {
                                float[] got = check(heap, values, x, n, variant, magnitude);
                                assertArrayEquals(got, NativeVariants.eachAlone(heap, x, n),
                                        variant + " " + heap + " n " + n + ": a column depends on the others");
                                assertArrayEquals(got, product(off, x, n), variant + " off the heap");
                                return got;
                            });
                }
            }
        } finally {
            NativeFloat32Kernels.selectVariant(initial);
        }
    }

    /** One product through the native kernels, in two row ranges, checked; returns it (and each term magnitude sum). */
    private static float[] check(WeightMatrix m, float[] w, float[] x, int n, String variant, double[] magnitudes) {
        int rows = m.rows();
        int in = m.cols();
        float[] got = product(m, x, n);
        float[] javaY = new float[n * rows];
        m.multiply(x, n, javaY, 0, rows);
        String what = variant + " " + m + " n " + n;
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                for (int i = 0; i < in; i++) {
                    exact += (double) w[r * in + i] * x[c * in + i];
                    magnitude += Math.abs((double) w[r * in + i] * x[c * in + i]);
                }
                float y = got[c * rows + r];
                magnitudes[c * rows + r] = magnitude;
                assertEquals(exact, y, 1e-5 * magnitude + 1e-6, what + " row " + r + " vs naive");
                assertEquals(javaY[c * rows + r], y, 2e-5 * magnitude + 1e-6, what + " row " + r + " vs Java kernel");
            }
        }
        return got;
    }

    private static float[] product(WeightMatrix m, float[] x, int n) {
        int rows = m.rows();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        float[] y = new float[n * rows];
        int cut = rows / 3;
        m.multiply(q, y, cut, rows);
        m.multiply(q, y, 0, cut);
        return y;
    }
}
