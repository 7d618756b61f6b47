package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A matrix stacked from parts in formats of their own ({@link WeightMatrix#stacked}: a Q4_K_M file's Q4_K q/k with a
 * Q6_K v): its rows decode as the parts' blocks do ({@code GgmlBlocks}, an independent decoder), its products equal a
 * naive float64 product of those values (Java kernels: float32 summation error), and every output row has the bits
 * of the same part multiplied alone, with the Java kernels and with the native ones (heap and off the heap, Q4_0
 * interleaved, a Q5_0 part beside them), for every column count and every cut of the rows into ranges, part
 * boundaries included.
 */
class StackedRowsTest {

    private static final int COLS = 512;

    /**
     * Parts as a Q4_K_M q/k/v: Q4_K, Q4_K, Q6_K; then Q8_0, F16 and Q4_0 parts of odd heights; with {@code q50} a
     * Q5_0 part last (native kernels only), as a Qwen2.5-0.5B Q4_K_M file's Q5_0 q/k beside a Q8_0 v.
     */
    private static List<WeightMatrix> parts(Random random, WeightMatrix.Storage storage, float[][] values,
                                            boolean q50) {
        List<WeightMatrix> parts = new ArrayList<>();
        int[] heights = {9, 5, 7, 13, 3, 11, 6};
        WeightFormat[] formats = {WeightFormat.Q4_K, WeightFormat.Q4_K, WeightFormat.Q6_K, WeightFormat.Q8_0,
                WeightFormat.F16, WeightFormat.Q4_0, WeightFormat.Q5_0};
        for (int i = 0; i < (q50 ? 7 : 6); i++) {
            WeightFormat f = formats[i];
            int rows = heights[i];
            WeightMatrix m;
            if (f == WeightFormat.Q5_0) {
                m = Q50KernelsTest.matrix(Q50KernelsTest.randomBlocks(rows, COLS, random), rows, COLS,
                        WeightMatrix.MAX_SLAB_BYTES, storage);
            } else if (f.superBlocks()) {
                byte[] raw = KQuantKernelsTest.randomBlocks(f, rows, COLS, random);
                int rowBytes = (int) f.rowBytes(COLS);
                m = WeightMatrix.fromStoredBytes(f, rows, COLS, (first, count, dst) -> dst.put(raw, first * rowBytes,
                        count * rowBytes), storage);
            } else {
                m = WeightMatrix.of(f, randoms(random, rows * COLS, 0.05), rows, COLS, storage);
            }
            parts.add(m);
            values[i] = m.toFloatArray();
        }
        return parts;
    }

    @Test
    void rowsAndBytesAreThePartsOwn() {
        Random random = new Random(3);
        float[][] values = new float[6][];
        List<WeightMatrix> parts = parts(random, WeightMatrix.Storage.HEAP, values, false);
        WeightMatrix m = WeightMatrix.stacked(parts);
        assertTrue(m.isStacked());
        assertEquals(48, m.rows());
        assertEquals(COLS, m.cols());
        assertEquals(parts.stream().mapToLong(WeightMatrix::byteSize).sum(), m.byteSize());
        assertEquals(EnumSet.of(WeightFormat.Q4_K, WeightFormat.Q6_K, WeightFormat.Q8_0, WeightFormat.F16,
                WeightFormat.Q4_0), m.formats());
        // the K-quant parts' rows as amulet-formats decodes the blocks (KQuantKernelsTest checks the part alone)
        float[] all = m.toFloatArray();
        int at = 0;
        for (float[] v : values) {
            assertArrayEquals(v, Arrays.copyOfRange(all, at, at + v.length));
            at += v.length;
        }
        assertEquals(parts, m.parts());
        assertThrows(IllegalStateException.class, m::rowBytes);
        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.stacked(List.of(parts.get(0))));
        WeightMatrix narrow = WeightMatrix.of(WeightFormat.Q8_0, new float[2 * 256], 2, 256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.stacked(List.of(parts.get(0), narrow)));
        assertTrue(e.getMessage().contains("same width"), e.getMessage());
    }

    @Test
    void javaKernelsGiveEachRowItsPartsBitsAndTheNaiveProduct() {
        Random random = new Random(5);
        float[][] values = new float[6][];
        List<WeightMatrix> parts = parts(random, WeightMatrix.Storage.HEAP, values, false);
        WeightMatrix m = WeightMatrix.stacked(parts);
        float[] w = m.toFloatArray();
        for (int n : new int[] {1, 2, 3, 17}) {
            float[] x = randoms(random, n * COLS, 1);
            float[] alone = aloneByParts(parts, x, n, false);
            for (int[] cuts : new int[][] {{0, 48}, {0, 9, 14, 48}, {0, 4, 20, 33, 47, 48}}) {
                float[] y = new float[n * m.rows()];
                for (int i = cuts.length - 1; i > 0; i--) {
                    m.multiply(x, n, y, cuts[i - 1], cuts[i]);
                }
                assertArrayEquals(alone, y, "Java n " + n + " cuts " + Arrays.toString(cuts));
            }
            for (int c = 0; c < n; c++) {
                for (int r = 0; r < m.rows(); r++) {
                    double exact = 0;
                    double magnitude = 0;
                    for (int i = 0; i < COLS; i++) {
                        exact += (double) w[r * COLS + i] * x[c * COLS + i];
                        magnitude += Math.abs((double) w[r * COLS + i] * x[c * COLS + i]);
                    }
                    assertEquals(exact, alone[c * m.rows() + r], 1e-5 * magnitude + 1e-6, "row " + r);
                }
            }
        }
    }

    @Test
    void nativeKernelsGiveEachRowItsPartsBitsOnTheHeapAndOff() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        for (WeightMatrix.Storage storage : List.of(WeightMatrix.Storage.HEAP, WeightMatrix.Storage.NATIVE)) {
            Random random = new Random(9);
            float[][] values = new float[7][];
            List<WeightMatrix> parts = parts(random, storage, values, true);
            WeightMatrix m = WeightMatrix.stacked(parts);
            assertEquals(storage != WeightMatrix.Storage.HEAP, m.offHeap(), storage.toString());
            assertTrue(m.formats().contains(WeightFormat.Q5_0));
            for (boolean interleave : new boolean[] {false, true}) {
                if (interleave) {
                    assertTrue(m.interleaveForNativeKernels(), "the Q4_0 part is interleaved");
                    assertTrue(parts.get(5).interleaved());
                }
                for (int n : new int[] {1, 2, 3, 5, 16, 19}) {
                    float[] x = randoms(random, n * COLS, 1);
                    assertTrue(m.nativeProduct(n));
                    float[] alone = aloneByParts(parts, x, n, true);
                    QuantizedInput q = new QuantizedInput();
                    m.quantize(x, n, q);
                    int[][] cutsTried = {{0, 54}, {0, 9, 14, 54}, {0, 16, 32, 48, 54}, {0, 1, 21, 22, 45, 49, 54}};
                    for (int[] cuts : cutsTried) {
                        float[] y = new float[n * m.rows()];
                        Arrays.fill(y, Float.NaN);
                        for (int i = cuts.length - 1; i > 0; i--) {
                            m.multiply(q, y, cuts[i - 1], cuts[i]);
                        }
                        assertArrayEquals(alone, y, storage + " interleaved " + interleave + " n " + n + " cuts "
                                + Arrays.toString(cuts));
                    }
                    // rows outside the range are left alone
                    float[] y = new float[n * m.rows()];
                    Arrays.fill(y, 42f);
                    m.multiply(q, y, 10, 51);
                    for (int i = 0; i < y.length; i++) {
                        int r = i % m.rows();
                        assertEquals(r >= 10 && r < 51, y[i] != 42f, "index " + i);
                    }
                }
            }
        }
    }

    /** Each part multiplied alone (native: on its own quantized input), its rows placed one above the other. */
    private static float[] aloneByParts(List<WeightMatrix> parts, float[] x, int n, boolean nativeKernels) {
        int rows = parts.stream().mapToInt(WeightMatrix::rows).sum();
        float[] y = new float[n * rows];
        int start = 0;
        for (WeightMatrix p : parts) {
            float[] py = new float[n * p.rows()];
            if (nativeKernels) {
                QuantizedInput q = new QuantizedInput();
                p.quantize(x, n, q);
                p.multiply(q, py, 0, p.rows());
            } else {
                p.multiply(x, n, py, 0, p.rows());
            }
            for (int c = 0; c < n; c++) {
                System.arraycopy(py, c * p.rows(), y, c * rows + start, p.rows());
            }
            start += p.rows();
        }
        assertFalse(Float.isNaN(y[0]));
        return y;
    }

    private static float[] randoms(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }
}
