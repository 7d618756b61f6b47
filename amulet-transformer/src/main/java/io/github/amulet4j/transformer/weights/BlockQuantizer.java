package io.github.amulet4j.transformer.weights;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;

import java.nio.ByteBuffer;

/**
 * Converts float32 values to and from every {@link WeightFormat}, with ggml's reference rounding for the block
 * formats (its {@code quantize_row_q8_0_ref} and {@code quantize_row_q4_0_ref}), so that a quantized row is
 * byte for byte what llama.cpp's converter writes for the same values.
 *
 * <p>Error bounds (for finite values; {@code amax} is the largest magnitude in a block, {@code d} its scale
 * before rounding to half, {@code u(d) = max(2^-11 d, 2^-25)} the half rounding error of the scale):
 * <ul>
 *   <li>F32: exact.</li>
 *   <li>BF16 (round to nearest even): {@code |x - x'| <= 2^-8 |x|}.</li>
 *   <li>F16 (round to nearest even): {@code |x - x'| <= 2^-11 |x|} for {@code |x| >= 2^-14}, else {@code <= 2^-25};
 *       a magnitude above 65504 is refused.</li>
 *   <li>Q8_0: {@code d = amax / 127}, {@code q = round(x / d)} (half away from zero), so
 *       {@code |x - x'| <= d / 2 + 127 u(d)}, about {@code 0.0044 amax}.</li>
 *   <li>Q4_0: {@code d = -m / 8} where {@code m} is the value of largest magnitude, {@code q = min(15,
 *       floor(x / d + 8.5))}, so {@code |x - x'| <= |d| / 2 + 8 u(|d|)}, except values of the sign opposite to
 *       {@code m} and magnitude above {@code 7.5 |d|}, clamped to {@code 7 |d|}: {@code |x - x'| <= |d| + 8 u(|d|)},
 *       {@code |d| = amax / 8}.</li>
 * </ul>
 */
public final class BlockQuantizer {

    private BlockQuantizer() {
    }

    /** The largest magnitude an IEEE half holds. */
    public static final float HALF_MAX = 65504f;

    /**
     * Writes {@code count} values (whole blocks for a block format) from {@code src[srcOffset...]} in {@code format}
     * at byte {@code dstPos} of the little-endian {@code dst} (absolute; the buffer's position is not moved).
     *
     * @throws IllegalArgumentException for a non-finite value, an F16 value out of range, or a count that is not
     *                                  a whole number of blocks
     */
    public static void encode(WeightFormat format, float[] src, int srcOffset, int count, ByteBuffer dst, int dstPos) {
        if (count % format.blockWeights() != 0) {
            throw new IllegalArgumentException(format + ": " + count + " values are not whole blocks of "
                    + format.blockWeights());
        }
        switch (format) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst.putFloat(dstPos + 4 * i, finite(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.putShort(dstPos + 2 * i, SafetensorsDtype.floatToBf16(finite(src[srcOffset + i])));
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.putShort(dstPos + 2 * i, toHalf(src[srcOffset + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < count / WeightFormat.BLOCK; b++) {
                    quantizeQ80(src, srcOffset + b * WeightFormat.BLOCK, dst, dstPos + b * 34);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < count / WeightFormat.BLOCK; b++) {
                    quantizeQ40(src, srcOffset + b * WeightFormat.BLOCK, dst, dstPos + b * 18);
                }
            }
            case Q4_K, Q5_K, Q6_K, Q5_0 -> throw new IllegalArgumentException(format
                    + " is held as a GGUF file stores it (WeightMatrix.fromStoredBytes); it is never converted to from "
                    + "float32: choose f32, bf16, f16, q8_0 or q4_0");
        }
    }

    /**
     * Reads {@code count} values (whole blocks for a block format) in {@code format} from byte {@code srcPos} of the
     * little-endian {@code src} into {@code dst[dstOffset...]}.
     */
    public static void decode(WeightFormat format, ByteBuffer src, int srcPos, float[] dst, int dstOffset, int count) {
        switch (format) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = src.getFloat(srcPos + 4 * i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = SafetensorsDtype.bf16ToFloat(src.getShort(srcPos + 2 * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = SafetensorsDtype.halfToFloat(src.getShort(srcPos + 2 * i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < count / WeightFormat.BLOCK; b++) {
                    int p = srcPos + b * 34;
                    float d = SafetensorsDtype.halfToFloat(src.getShort(p));
                    int o = dstOffset + b * WeightFormat.BLOCK;
                    for (int j = 0; j < WeightFormat.BLOCK; j++) {
                        dst[o + j] = d * src.get(p + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < count / WeightFormat.BLOCK; b++) {
                    int p = srcPos + b * 18;
                    float d = SafetensorsDtype.halfToFloat(src.getShort(p));
                    int o = dstOffset + b * WeightFormat.BLOCK;
                    for (int j = 0; j < 16; j++) {
                        int q = src.get(p + 2 + j) & 0xFF;
                        dst[o + j] = d * ((q & 0x0F) - 8);
                        dst[o + 16 + j] = d * ((q >>> 4) - 8);
                    }
                }
            }
            case Q4_K, Q5_K, Q6_K, Q5_0 -> GgmlBlocks.decode(GgmlType.valueOf(format.name()), src, srcPos, dst,
                    dstOffset, count);
        }
    }

    /** One Q8_0 block: ggml's quantize_row_q8_0_ref. */
    private static void quantizeQ80(float[] x, int off, ByteBuffer dst, int pos) {
        float amax = 0;
        for (int j = 0; j < WeightFormat.BLOCK; j++) {
            amax = Math.max(amax, Math.abs(finite(x[off + j])));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.putShort(pos, SafetensorsDtype.floatToHalf(d));
        for (int j = 0; j < WeightFormat.BLOCK; j++) {
            dst.put(pos + 2 + j, (byte) roundHalfAway(x[off + j] * id));
        }
    }

    /** One Q4_0 block: ggml's quantize_row_q4_0_ref (low nibbles: weights 0..15, high nibbles: 16..31). */
    private static void quantizeQ40(float[] x, int off, ByteBuffer dst, int pos) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < WeightFormat.BLOCK; j++) {
            float v = finite(x[off + j]);
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.putShort(pos, SafetensorsDtype.floatToHalf(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[off + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[off + 16 + j] * id + 8.5f));
            dst.put(pos + 2 + j, (byte) (lo | (hi << 4)));
        }
    }

    /** C's roundf: to nearest, halves away from zero (exact: |v| + 0.5 is exact in double for |v| < 2^29). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    private static short toHalf(float v) {
        if (!(Math.abs(v) <= HALF_MAX)) {
            throw new IllegalArgumentException(Float.isFinite(v) ? "weight " + v + " is outside the F16 range (|x| <= "
                    + HALF_MAX + "); use bf16, f32 or a block format" : "weight " + v + " is not finite");
        }
        return SafetensorsDtype.floatToHalf(v);
    }

    private static float finite(float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("weight " + v + " is not finite");
        }
        return v;
    }
}
