package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native kernels of Q4_0 rows interleaved by 8 ({@link WeightMatrix#interleaveForNativeKernels}, amulet_q4x8.c),
 * every variant this CPU has, on shapes with every tail (rows not a multiple of 8 or 16, one block, panels, odd
 * column counts): against a naive float64 product of the dequantized weights with the quantized activations, against
 * the Java kernel on the same weights in the row layout (within the activations' quantization error), bit for bit
 * against the plain C variant (every variant does the same float32 steps), each column against itself alone, and
 * slabs of a few rows (groups and tail rows mixed) against one slab.
 */
class InterleavedQ4KernelsTest {

    /** Rows x inputs: one row, a group less or more one, two groups and a tail, panels (2080, 4864). */
    private static final int[][] SHAPES = {{1, 32}, {7, 64}, {8, 96}, {9, 32}, {15, 160}, {16, 896}, {17, 64},
            {24, 2080}, {33, 256}, {130, 64}, {11, 4864}};
    /** Column counts: decode (1, 2), the tiles of 8 and what is left over (1 to 7), more than a column block. */
    private static final int[] COLUMNS = {1, 2, 3, 8, 9, 15, 67};

    @Test
    void everyVariantMatchesTheNaiveProductTheJavaKernelAndThePlainC() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        int initial = NativeKernels.variant();
        try {
            for (int[] shape : SHAPES) {
                Random random = new Random(131L * shape[0] + shape[1]);
                float[] values = RandomValues.gaussian(random, shape[0] * shape[1]);
                WeightMatrix rowLayout = WeightMatrix.of(WeightFormat.Q4_0, values, shape[0], shape[1]);
                WeightMatrix m = WeightMatrix.of(WeightFormat.Q4_0, values, shape[0], shape[1]);
                assertTrue(m.interleaveForNativeKernels());
                assertTrue(m.interleaved());
                assertFalse(m.interleaveForNativeKernels(), "a second time: nothing to do");
                for (int n : COLUMNS) {
                    float[] x = RandomValues.gaussian(random, n * shape[1]);
                    float[] scalar = null;
                    int supported = NativeKernels.supportedVariants();
                    for (int v = 0; v < NativeKernels.VARIANTS; v++) {
                        if ((supported & (1 << v)) == 0) {
                            continue;
                        }
                        assertEquals(v, NativeKernels.selectVariant(v));
                        String what = NativeKernels.variantName(v) + " " + m + " n " + n;
                        float[] got = check(m, rowLayout, x, n, what);
                        if (scalar == null) {
                            scalar = got;
                        } else {
                            assertArrayEquals(scalar, got, what + ": other bits than the plain C variant");
                        }
                        assertArrayEquals(NativeVariants.eachAlone(m, x, n), got, what + ": a column's result depends on the others");
                    }
                }
            }
        } finally {
            NativeKernels.selectVariant(initial);
        }
    }

    /** The product in three row ranges cut at odd places, checked against the naive and the Java product. */
    private static float[] check(WeightMatrix m, WeightMatrix rowLayout, float[] x, int n, String what) {
        int rows = m.rows();
        int in = m.cols();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        float[] got = new float[n * rows];
        int a = Math.min(rows, 3);
        int b = Math.max(a, rows - rows / 3);
        m.multiply(q, got, b, rows);
        m.multiply(q, got, 0, a);
        m.multiply(q, got, a, b);
        float[] javaY = new float[n * rows];
        rowLayout.multiply(x, n, javaY, 0, rows);
        float[] w = rowLayout.toFloatArray();
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                double quantError = 0;
                for (int i = 0; i < in; i++) {
                    double wi = w[r * in + i];
                    double d = q.scale(c, i / WeightFormat.BLOCK);
                    double xq = q.quant(c, i) * d;
                    exact += wi * xq;
                    magnitude += Math.abs(wi * xq);
                    quantError += Math.abs(wi) * d / 2;
                }
                float y = got[c * rows + r];
                assertEquals(exact, y, 1e-5 * magnitude + 1e-6, what + " row " + r + " column " + c + " vs naive");
                assertEquals(javaY[c * rows + r], y, quantError * 1.001 + 1e-5 * magnitude + 1e-6,
                        what + " row " + r + " column " + c + " vs the Java kernel");
            }
        }
        return got;
    }

    @Test
    void slabsOfAFewRowsGiveTheSameBits() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(9);
        int rows = 45;
        int in = 4864;
        float[] values = RandomValues.gaussian(random, rows * in);
        WeightMatrix whole = WeightMatrix.of(WeightFormat.Q4_0, values, rows, in);
        assertTrue(whole.interleaveForNativeKernels());
        // slabs of 12 rows (a group and a tail of 4 each), of 4 rows (tails only)
        for (int slabRows : new int[] {12, 4}) {
            WeightMatrix small = WeightMatrix.of(WeightFormat.Q4_0, values, rows, in,
                    (int) WeightFormat.Q4_0.rowBytes(in) * slabRows);
            assertTrue(small.interleaveForNativeKernels());
            for (int n : new int[] {1, 2, 5}) {
                NativeVariants.slabsAgree(whole, small, RandomValues.gaussian(random, n * in), n,
                        "slabs of " + slabRows);
            }
        }
    }

    @Test
    void rowsReadBackAsStoredAndTheJavaKernelsRefuseTheLayout() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(3);
        int rows = 21;
        int in = 2080;
        float[] values = RandomValues.gaussian(random, rows * in);
        WeightMatrix plain = WeightMatrix.of(WeightFormat.Q4_0, values, rows, in);
        WeightMatrix m = WeightMatrix.of(WeightFormat.Q4_0, values, rows, in);
        m.interleaveForNativeKernels();
        assertArrayEquals(plain.toFloatArray(), m.toFloatArray());
        ByteBuffer a = ByteBuffer.allocate(plain.rowBytes());
        ByteBuffer b = ByteBuffer.allocate(plain.rowBytes());
        for (int r = 0; r < rows; r++) {
            plain.copyRow(r, a, 0);
            m.copyRow(r, b, 0);
            assertArrayEquals(a.array(), b.array(), "row " + r);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.multiply(new float[in], 1, new float[rows], 0, rows));
        assertTrue(e.getMessage().contains("interleaved"), e.getMessage());
        WeightMatrix q8 = WeightMatrix.of(WeightFormat.Q8_0, values, rows, in);
        assertFalse(q8.interleaveForNativeKernels(), "Q8_0 keeps the row layout");
    }
}
