package io.github.amulet4j.transformer.weights;

import java.nio.ByteBuffer;

/**
 * Checks a row given in its format's bytes before it is kept as it is ({@link WeightMatrix#fromStoredBytes}): every
 * weight (F32, F16, BF16) or every block scale (Q8_0, Q4_0; a K-quant block's half scales) finite, as converting from float32 requires. Reads the
 * exponent bits only: no value is decoded.
 */
final class RawRowCheck {

    private RawRowCheck() {
    }

    /**
     * @throws IllegalArgumentException naming the row and the weight (or block) that is infinite or NaN
     */
    static void check(WeightFormat format, ByteBuffer b, int pos, int cols, int row) {
        switch (format) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    if ((b.getInt(pos + 4 * i) & 0x7F800000) == 0x7F800000) {
                        fail(row, "weight " + i + " is " + Float.intBitsToFloat(b.getInt(pos + 4 * i)));
                    }
                }
            }
            case F16 -> shorts(b, pos, cols, 0x7C00, row, "weight", 1);
            case BF16 -> shorts(b, pos, cols, 0x7F80, row, "weight", 1);
            case Q8_0, Q4_0, Q5_0 -> shorts(b, pos, cols / WeightFormat.BLOCK, 0x7C00, row, "the scale of block",
                    format.blockBytes() / 2);
            case Q4_K, Q5_K -> {
                // the half scale d and minimum scale dmin open every block
                shorts(b, pos, cols / WeightFormat.SUPER_BLOCK, 0x7C00, row, "the scale of block",
                        format.blockBytes() / 2);
                shorts(b, pos + 2, cols / WeightFormat.SUPER_BLOCK, 0x7C00, row, "the minimum scale of block",
                        format.blockBytes() / 2);
            }
            // block_q6_K's half scale d closes its 210 bytes
            case Q6_K -> shorts(b, pos + 208, cols / WeightFormat.SUPER_BLOCK, 0x7C00, row, "the scale of block",
                    format.blockBytes() / 2);
        }
    }

    /** {@code count} 16-bit values {@code step} shorts apart, none with every bit of {@code exponent} set. */
    private static void shorts(ByteBuffer b, int pos, int count, int exponent, int row, String what, int step) {
        for (int i = 0; i < count; i++) {
            if ((b.getShort(pos + 2 * step * i) & exponent) == exponent) {
                fail(row, what + " " + i + " is infinite or NaN");
            }
        }
    }

    private static void fail(int row, String what) {
        throw new IllegalArgumentException("row " + row + ": " + what + "; the weights must be finite");
    }
}
