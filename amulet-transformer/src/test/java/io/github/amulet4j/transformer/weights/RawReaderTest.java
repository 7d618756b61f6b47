package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A matrix copied from its format's bytes ({@link WeightMatrix#fromStoredBytes})
 * against the same matrix converted from float32: the same bytes in every row, panels and several chunks included,
 * and a weight or block scale that is not finite refused with its row.
 */
class RawReaderTest {

    @Test
    void rawRowsGiveTheConvertedMatrix() {
        Random random = new Random(3);
        int[][] shapes = {{1, 32}, {7, 96}, {300, 896}, {5, 4864}, {1100, 2080}};
        for (WeightFormat f : WeightFormat.values()) {
            if (f.storedOnly()) {
                // no quantizer: KQuantKernelsTest and Q50KernelsTest check their blocks against ggml's decoding
                continue;
            }
            for (int[] s : shapes) {
                int rows = s[0];
                int cols = s[1];
                float[] v = new float[rows * cols];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) random.nextGaussian();
                }
                WeightMatrix converted = WeightMatrix.of(f, v, rows, cols);
                byte[] bytes = bytes(converted);
                WeightMatrix copied = WeightMatrix.fromStoredBytes(f, rows, cols, reader(bytes, converted.rowBytes()));
                assertEquals(converted.byteSize(), copied.byteSize());
                assertArrayEquals(bytes, bytes(copied), f + " " + rows + "x" + cols);
                assertArrayEquals(converted.toFloatArray(), copied.toFloatArray(), f + " " + rows + "x" + cols);
            }
        }
    }

    @Test
    void aWeightOrScaleThatIsNotFiniteIsRefusedWithItsRow() {
        for (WeightFormat f : WeightFormat.values()) {
            int rows = 9;
            int cols = f.superBlocks() ? 512 : 64;
            int rowBytes = Math.toIntExact(f.rowBytes(cols));
            // zero weights (a K-quant, which has no quantizer, as zero blocks: every scale 0)
            byte[] bytes = f.storedOnly() ? new byte[rows * rowBytes] : bytes(WeightMatrix.of(f, new float[rows * cols],
                    rows, cols));
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            // block 1's scale (Q6_K's closes its block), or weight 3
            int at = 6 * rowBytes + (f.quantized() ? f.blockBytes() + (f == WeightFormat.Q6_K ? 208 : 0)
                    : 3 * (f == WeightFormat.F32 ? 4 : 2));
            switch (f) {
                case F32 -> b.putFloat(at, Float.NaN);
                case BF16 -> b.putShort(at, (short) 0x7F80);
                default -> b.putShort(at, (short) 0x7C00); // F16 infinity, or a block's scale
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WeightMatrix.fromStoredBytes(f, rows, cols, reader(bytes, rowBytes)), f.toString());
            assertTrue(e.getMessage().startsWith("row 6: "), e.getMessage());
            assertTrue(e.getMessage().contains(f.quantized() ? "block 1" : "weight 3"), e.getMessage());
        }
        // a Q4_K block's minimum scale too
        int rowBytes = Math.toIntExact(WeightFormat.Q4_K.rowBytes(256));
        byte[] bytes = new byte[2 * rowBytes];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(rowBytes + 2, (short) 0xFC00);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.fromStoredBytes(WeightFormat.Q4_K, 2, 256, reader(bytes, rowBytes)));
        assertTrue(e.getMessage().startsWith("row 1: the minimum scale of block 0"), e.getMessage());
    }

    @Test
    void aReaderThatGivesTooFewBytesIsNamed() {
        WeightMatrix m = WeightMatrix.of(WeightFormat.BF16, new float[4 * 32], 4, 32);
        byte[] bytes = bytes(m);
        // on the heap, and off it where the native kernels are (else on the heap again)
        for (WeightMatrix.Storage storage : new WeightMatrix.Storage[] {WeightMatrix.Storage.HEAP,
                WeightMatrix.Storage.NATIVE}) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> WeightMatrix.fromStoredBytes(WeightFormat.BF16, 4, 32,
                            (first, count, dst) -> dst.put(bytes, 0, 8), storage));
            assertEquals("rows 0+4: the reader gave 8 bytes, 256 expected", e.getMessage());
        }
    }

    private static WeightMatrix.RawReader reader(byte[] bytes, int rowBytes) {
        return (first, count, dst) -> dst.put(Arrays.copyOfRange(bytes, first * rowBytes, (first + count) * rowBytes));
    }

    private static byte[] bytes(WeightMatrix m) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(m.byteSize()));
        for (int r = 0; r < m.rows(); r++) {
            m.copyRow(r, out, r * m.rowBytes());
        }
        return out.array();
    }
}
