package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native F16/BF16 kernels, every variant this CPU has, against (a) a naive float64 product of the stored weights
 * with the activations the variant multiplies (float32, or rounded to bfloat16 for BF16 on {@code vdpbf16ps}): only
 * float32 summation error is allowed; (b) the Java kernel on float32 activations: for the bfloat16-rounded ones the
 * rounding error {@code sum_i |w_i x_i| 2^-9} is allowed besides; (c) the scalar C variant.
 */
class NativeFloat16KernelsTest {

    /**
     * Rows x inputs: a single weight, odd widths, widths below and between the vector and unroll sizes (8, 16, 32,
     * 64), rows not a multiple of anything, panels (2081: 1024 + 1024 + 33; 4863, 4864).
     */
    private static final int[][] SHAPES = {{1, 1}, {3, 7}, {2, 8}, {5, 33}, {7, 63}, {17, 65}, {4, 100}, {13, 129},
            {33, 896}, {130, 65}, {5, 1023}, {6, 2081}, {3, 4863}, {9, 4864}};

    @Test
    void theKernelsAreLinkedWhereTheLibraryIs() {
        assertEquals(NativeKernels.available(), NativeFloat16Kernels.available());
        assertEquals(NativeKernels.available(), NativeKernels.supports(WeightFormat.BF16));
        assertEquals(NativeKernels.available(), NativeKernels.supports(WeightFormat.F16));
    }

    @Test
    void everyVariantMatchesTheNaiveProductAndTheJavaKernel() {
        Assumptions.assumeTrue(NativeFloat16Kernels.available(), NativeKernels.unavailableReason());
        int initial = NativeFloat16Kernels.variant();
        try {
            for (WeightFormat f : new WeightFormat[] {WeightFormat.F16, WeightFormat.BF16}) {
                for (int[] shape : SHAPES) {
                    Random random = new Random(17L * shape[0] + shape[1] + f.ordinal());
                    WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, shape[0] * shape[1]), shape[0],
                            shape[1]);
                    // decode (one, two columns) and prefill (odd and even counts: tiles, pairs over row blocks, columns left over)
                    for (int n : new int[] {1, 2, 3, 6, 9, 18}) {
                        float[] x = RandomValues.gaussian(random, n * shape[1]);
                        // vdpbf16ps multiplies activations rounded to bfloat16: checked against its own naive sum
                        boolean bf16 = f == WeightFormat.BF16;
                        NativeVariants.agreeWithScalar(NativeVariants.FLOAT16, n * shape[0], 1e-5,
                                v -> !bf16 || v != NativeFloat16Kernels.AVX512_BF16, m + " n " + n,
                                (variant, magnitude) -> check(m, x, n, variant, magnitude));
                    }
                }
            }
        } finally {
            NativeFloat16Kernels.selectVariant(initial);
        }
    }

    /** One product through the native kernels, in two row ranges, checked; returns it (and each term magnitude sum). */
    private static float[] check(WeightMatrix m, float[] x, int n, String variant, double[] magnitudes) {
        int rows = m.rows();
        int in = m.cols();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        boolean rounded = q.rounded;
        float[] got = new float[n * rows];
        int cut = rows / 3;
        m.multiply(q, got, 0, cut);
        m.multiply(q, got, cut, rows);
        float[] javaY = new float[n * rows];
        m.multiply(x, n, javaY, 0, rows);
        float[] w = m.toFloatArray();
        String what = variant + " " + m + " n " + n;
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                for (int i = 0; i < in; i++) {
                    double xi = rounded ? bf16(x[c * in + i]) : x[c * in + i];
                    exact += w[r * in + i] * xi;
                    magnitude += Math.abs(w[r * in + i] * xi);
                }
                float y = got[c * rows + r];
                magnitudes[c * rows + r] = magnitude;
                assertEquals(exact, y, 1e-5 * magnitude + 1e-6, what + " row " + r + " vs naive");
                double rounding = rounded ? magnitude * 0x1p-8 : 0;
                assertEquals(javaY[c * rows + r], y, rounding + 1e-5 * magnitude + 1e-6,
                        what + " row " + r + " vs Java kernel (float32 x)");
            }
        }
        return got;
    }

    @Test
    void activationsRoundToNearestBfloat16WithTiesToEven() {
        Assumptions.assumeTrue(NativeFloat16Kernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(9);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            // random bit patterns: every exponent, ties (low 16 bits 0x8000), NaN and infinities among them
            int bits = random.nextInt();
            x[i] = Float.intBitsToFloat(i % 7 == 0 ? (bits & 0xFFFF0000) | 0x8000 : bits);
        }
        x[0] = Float.NaN;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = -0f;
        x[3] = Float.MAX_VALUE;
        short[] out = new short[x.length];
        NativeFloat16Kernels.toBf16(x, x.length, out);
        for (int i = 0; i < x.length; i++) {
            float back = Float.intBitsToFloat((out[i] & 0xFFFF) << 16);
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(back), "NaN at " + i);
            } else {
                assertEquals(bf16(x[i]), back, 0.0, "x[" + i + "] = " + x[i]);
            }
        }
    }

    /** {@code v} rounded to the nearest bfloat16, ties to the even one: from the two neighbours, in float64. */
    private static double bf16(float v) {
        if (Float.isInfinite(v)) {
            return v;
        }
        int bits = Float.floatToRawIntBits(v);
        float down = Float.intBitsToFloat(bits & 0xFFFF0000);
        float up = Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000);
        // past the largest finite bfloat16 the next one up is infinity, at the distance of one more step
        double upValue = Float.isInfinite(up) && !Float.isInfinite(v)
                ? 2.0 * down - Float.intBitsToFloat((bits & 0xFFFF0000) - 0x10000) : up;
        double dd = Math.abs((double) v - down);
        double du = Math.abs(upValue - v);
        if (dd != du) {
            return dd < du ? down : up;
        }
        return ((bits >>> 16) & 1) == 0 ? down : up;
    }

    @Test
    void rowsSpreadOverSeveralSlabs() {
        Assumptions.assumeTrue(NativeFloat16Kernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(5);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.F16, WeightFormat.BF16}) {
            int rows = 23;
            int in = 4863;
            float[] values = RandomValues.gaussian(random, rows * in);
            WeightMatrix small = WeightMatrix.of(f, values, rows, in, (int) f.rowBytes(in) * 4);
            WeightMatrix whole = WeightMatrix.of(f, values, rows, in);
            for (int n = 1; n <= 2; n++) {
                float[] x = RandomValues.gaussian(random, n * in);
                NativeVariants.slabsAgree(whole, small, x, n, f.toString());
            }
        }
    }

    @Test
    void rowsOutsideTheRangeAreLeftAloneAndMisuseIsRefused() {
        Assumptions.assumeTrue(NativeFloat16Kernels.available(), NativeKernels.unavailableReason());
        WeightMatrix m = WeightMatrix.of(WeightFormat.BF16, RandomValues.gaussian(new Random(1), 40 * 65), 40, 65);
        QuantizedInput q = new QuantizedInput();
        m.quantize(RandomValues.gaussian(new Random(2), 2 * 65), 2, q);
        float[] y = new float[80];
        Arrays.fill(y, 42f);
        m.multiply(q, y, 5, 23);
        for (int i = 0; i < 80; i++) {
            int r = i % 40;
            assertEquals(r >= 5 && r < 23, y[i] != 42f, "index " + i);
        }
        WeightMatrix q8 = WeightMatrix.of(WeightFormat.Q8_0, RandomValues.gaussian(new Random(3), 4 * 64), 4, 64);
        QuantizedInput forQ8 = new QuantizedInput();
        q8.quantize(RandomValues.gaussian(new Random(4), 64), 1, forQ8);
        WeightMatrix f16 = WeightMatrix.of(WeightFormat.F16, RandomValues.gaussian(new Random(3), 4 * 64), 4, 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f16.multiply(forQ8, new float[4], 0, 4));
        assertTrue(e.getMessage().contains("F16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> q8.multiply(q, new float[8], 0, 4));
        assertThrows(IllegalStateException.class, () -> f16.quantize(new float[64], 0, new QuantizedInput()));
        assertThrows(IllegalArgumentException.class, () -> f16.quantize(new float[64 * 64], 65, new QuantizedInput()));
    }
}
