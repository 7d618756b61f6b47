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
            int cols = 64;
            WeightMatrix m = WeightMatrix.of(f, new float[rows * cols], rows, cols);
            byte[] bytes = bytes(m);
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int at = 6 * m.rowBytes() + (f.quantized() ? f.blockBytes() : 3 * (f == WeightFormat.F32 ? 4 : 2));
            switch (f) {
                case F32 -> b.putFloat(at, Float.NaN);
                case BF16 -> b.putShort(at, (short) 0x7F80);
                default -> b.putShort(at, (short) 0x7C00); // F16 infinity, or a block's scale
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WeightMatrix.fromStoredBytes(f, rows, cols, reader(bytes, m.rowBytes())), f.toString());
            assertTrue(e.getMessage().startsWith("row 6: "), e.getMessage());
            assertTrue(e.getMessage().contains(f.quantized() ? "block 1" : "weight 3"), e.getMessage());
        }
    }

    @Test
    void aReaderThatGivesTooFewBytesIsNamed() {
        WeightMatrix m = WeightMatrix.of(WeightFormat.BF16, new float[4 * 32], 4, 32);
        byte[] bytes = bytes(m);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> WeightMatrix.fromStoredBytes(WeightFormat.BF16,
                        4, 32, (first, count, dst) -> dst.put(bytes, 0, 8)));
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
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
