package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weights off the Java heap ({@link WeightMatrix.Storage#NATIVE}) against the same weights on it: the same bytes
 * (rows read back in the GGUF layout), the same products bit for bit, with several slabs, column panels and the
 * interleaved Q4_0 layout; rows copied from stored bytes checked as on the heap.
 */
class OffHeapWeightsTest {

    /** Rows x inputs: a single block, odd rows, column panels (more than 2,048 inputs), a K-quant row of 9 blocks. */
    private static final int[][] SHAPES = {{1, 256}, {37, 768}, {67, 512}, {9, 2304}, {6, 4864}};
    private static final int[] COLUMNS = {1, 2, 3, 17};

    @BeforeEach
    void needsLibrary() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
    }

    @Test
    void offHeapMatricesHoldTheSameRowsAndGiveTheSameProducts() {
        Random random = new Random(11);
        for (WeightFormat f : NativeVariants.formats()) {
            for (int[] shape : SHAPES) {
                int rows = shape[0];
                int cols = shape[1];
                if (!f.fits(cols)) {
                    continue;
                }
                byte[] raw = storedBytes(f, rows, cols, random);
                // slabs of about a third of the matrix: runs of rows cross slabs
                int slab = (int) Math.max(f.rowBytes(cols), raw.length / 3);
                WeightMatrix heap = stored(f, raw, rows, cols, slab, WeightMatrix.Storage.HEAP);
                WeightMatrix off = stored(f, raw, rows, cols, slab, WeightMatrix.Storage.NATIVE);
                assertFalse(heap.offHeap());
                assertTrue(off.offHeap(), f + " is multiplied natively, so it lives off the heap");
                assertArrayEquals(raw, rowsOf(off), f + " " + rows + "x" + cols + ": the bytes read back");
                for (int n : COLUMNS) {
                    float[] x = RandomValues.gaussian(random, n * cols);
                    assertArrayEquals(product(heap, x, n), product(off, x, n), f + " " + rows + "x" + cols + " n " + n);
                }
                if (f == WeightFormat.Q4_0) {
                    assertTrue(heap.interleaveForNativeKernels());
                    assertTrue(off.interleaveForNativeKernels());
                    assertArrayEquals(raw, rowsOf(off), "interleaved Q4_0 rows read back");
                    float[] x = RandomValues.gaussian(random, 5 * cols);
                    assertArrayEquals(product(heap, x, 5), product(off, x, 5), "interleaved Q4_0 " + rows + "x" + cols);
                }
                float[] row = new float[cols];
                float[] want = new float[cols];
                heap.row(rows - 1, want, 0);
                off.row(rows - 1, row, 0);
                assertArrayEquals(want, row, "the last row decoded");
            }
        }
    }

    @Test
    void convertedMatricesLiveOffTheHeapToo() {
        Random random = new Random(5);
        float[] values = RandomValues.gaussian(random, 48 * 2304);
        for (WeightFormat f : List.of(WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.BF16)) {
            Assumptions.assumeTrue(NativeKernels.supports(f));
            WeightMatrix heap = WeightMatrix.of(f, values, 48, 2304);
            WeightMatrix off = WeightMatrix.of(f, values, 48, 2304, WeightMatrix.Storage.NATIVE);
            assertTrue(off.offHeap());
            assertArrayEquals(rowsOf(heap), rowsOf(off), f + ": the same blocks");
            float[] x = RandomValues.gaussian(random, 2 * 2304);
            assertArrayEquals(product(heap, x, 2), product(off, x, 2), f.toString());
        }
    }

    @Test
    void theJavaKernelsRefuseAMatrixOffTheHeap() {
        float[] values = RandomValues.gaussian(new Random(3), 4 * 64);
        WeightMatrix off = WeightMatrix.of(WeightFormat.Q8_0, values, 4, 64, WeightMatrix.Storage.NATIVE);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> off.multiply(new float[64], 1, new float[4], 0, 4));
        assertTrue(e.getMessage().contains("off the Java heap"), e.getMessage());
        assertTrue(WeightMatrix.of(WeightFormat.F32, values, 4, 64, WeightMatrix.Storage.NATIVE).offHeap());
        assertFalse(WeightMatrix.of(WeightFormat.F32, values, 4, 64, WeightMatrix.Storage.HEAP).offHeap());
    }

    @Test
    void aNonFiniteRowCopiedOffTheHeapIsNamedAsOnTheHeap() {
        Random random = new Random(9);
        for (WeightFormat f : NativeVariants.formats()) {
            int rows = 40;
            int cols = 512;
            byte[] raw = storedBytes(f, rows, cols, random);
            int bad = 29;
            int at = bad * (int) f.rowBytes(cols) + badOffset(f);
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) 0x7E00); // NaN in F16
            if (f == WeightFormat.BF16) {
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) 0x7FC0); // NaN in BF16
            } else if (f == WeightFormat.F32) {
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 0x7F800000); // +infinity
            }
            int slab = raw.length / 4;
            IllegalArgumentException onHeap = assertThrows(IllegalArgumentException.class,
                    () -> stored(f, raw, rows, cols, slab, WeightMatrix.Storage.HEAP));
            IllegalArgumentException offHeap = assertThrows(IllegalArgumentException.class,
                    () -> stored(f, raw, rows, cols, slab, WeightMatrix.Storage.NATIVE));
            assertEquals(onHeap.getMessage(), offHeap.getMessage(), f.toString());
            assertTrue(offHeap.getMessage().startsWith("row " + bad + ":"), f + ": " + offHeap.getMessage());
        }
    }

    /** Where a 16-bit value of row 0 that the check reads lies, for {@code f}: a scale, or a weight. */
    private static int badOffset(WeightFormat f) {
        return switch (f) {
            case Q6_K -> 210 + 208; // block 1's scale d closes the block
            case Q4_K, Q5_K -> f.blockBytes() + 2; // block 1's minimum scale
            case Q8_0, Q4_0 -> 3 * f.blockBytes(); // block 3's scale
            case F32 -> 4 * 77; // weight 77
            default -> 2 * 77; // weight 77
        };
    }

    /** Random weights in {@code f}'s stored bytes (GGUF block layout). */
    private static byte[] storedBytes(WeightFormat f, int rows, int cols, Random random) {
        if (f == WeightFormat.Q5_0) {
            return Q50KernelsTest.randomBlocks(rows, cols, random);
        }
        if (f.superBlocks()) {
            return KQuantKernelsTest.randomBlocks(f, rows, cols, random);
        }
        return rowsOf(WeightMatrix.of(f, RandomValues.gaussian(random, rows * cols), rows, cols));
    }

    private static WeightMatrix stored(WeightFormat f, byte[] raw, int rows, int cols, int maxSlabBytes,
                                       WeightMatrix.Storage storage) {
        int rowBytes = (int) f.rowBytes(cols);
        return WeightMatrix.fromStoredBytes(f, rows, cols,
                (first, count, dst) -> dst.put(raw, first * rowBytes, count * rowBytes), maxSlabBytes, storage);
    }

    /** Every row in the GGUF block layout. */
    private static byte[] rowsOf(WeightMatrix m) {
        ByteBuffer out = ByteBuffer.allocate((int) m.byteSize());
        for (int r = 0; r < m.rows(); r++) {
            m.copyRow(r, out, r * m.rowBytes());
        }
        return out.array();
    }

    private static float[] product(WeightMatrix m, float[] x, int n) {
        float[] y = new float[n * m.rows()];
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        int mid = m.rows() / 2;
        m.multiply(q, y, mid, m.rows());
        m.multiply(q, y, 0, mid);
        return y;
    }
}
