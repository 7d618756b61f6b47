package io.github.amulet4j.formats.checkpoint;

import java.nio.ByteBuffer;

/**
 * The element types of a safetensors file that this library reads, with their byte sizes and their
 * conversions to and from float32. F32, F16 and BF16 can also be written; F64, I64 and I32 are read only.
 */
public enum SafetensorsDtype {
    /** IEEE 754 single precision. */
    F32(4, true),
    /** IEEE 754 half precision. */
    F16(2, true),
    /** bfloat16: the upper 16 bits of a float32. */
    BF16(2, true),
    /** IEEE 754 double precision (read only, narrowed to float32). */
    F64(8, false),
    /** 64-bit signed integer (read only, converted to float32). */
    I64(8, false),
    /** 32-bit signed integer (read only, converted to float32). */
    I32(4, false);

    private final int byteSize;
    private final boolean writable;

    SafetensorsDtype(int byteSize, boolean writable) {
        this.byteSize = byteSize;
        this.writable = writable;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether {@link SafetensorsWriter} can write this dtype. */
    public boolean writable() {
        return writable;
    }

    /** The dtype named as in a safetensors header, or null when this library does not read it. */
    public static SafetensorsDtype fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** Reads {@code count} elements from a little-endian buffer at its position into {@code dst[dstOffset...]}. */
    void decode(ByteBuffer src, float[] dst, int dstOffset, int count) {
        switch (this) {
            case F32 -> src.asFloatBuffer().get(dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = halfToFloat(src.getShort(src.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = bf16ToFloat(src.getShort(src.position() + 2 * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) src.getDouble(src.position() + 8 * i);
                }
            }
            case I64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) src.getLong(src.position() + 8 * i);
                }
            }
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) src.getInt(src.position() + 4 * i);
                }
            }
            default -> throw new IllegalStateException(name());
        }
    }

    /** Writes {@code count} values of {@code src[srcOffset...]} to a little-endian buffer at its position, advancing it. */
    void encode(float[] src, int srcOffset, int count, ByteBuffer dst) {
        switch (this) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst.putFloat(src[srcOffset + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.putShort(floatToHalf(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.putShort(floatToBf16(src[srcOffset + i]));
                }
            }
            default -> throw new IllegalStateException("cannot write " + name());
        }
    }

    /** Widens a bfloat16 bit pattern to float32 (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows float32 to bfloat16 bits, rounding to nearest, ties to even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Widens an IEEE half bit pattern to float32 (exact, subnormals included). */
    public static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: mant * 2^-24, exactly representable in float32
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Narrows float32 to IEEE half bits, rounding to nearest, ties to even; overflow gives infinity. */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            // infinity or NaN (keep NaN quiet and non-zero)
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            // result is subnormal or zero: value = m * 2^(exp-150) with the implicit bit, half unit is 2^-24
            if (e < -10) {
                return (short) sign; // below half of the smallest subnormal, rounds to zero
            }
            int m = mant | 0x800000;
            int shift = 14 - e; // number of bits to drop so that the unit becomes 2^-24
            int result = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (result & 1) == 1)) {
                result++;
            }
            return (short) (sign | result);
        }
        int result = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (result & 1) == 1)) {
            result++; // may carry into the exponent, up to infinity: both correct
        }
        return (short) (sign | result);
    }
}
