package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;

import java.nio.ByteBuffer;

/**
 * Converts ggml tensor data to float32 with ggml's own formulas ({@code dequantize_row_*} of llama.cpp's
 * {@code ggml-quants.c}), block by block: F32, F16, BF16 (exact), Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (32 values a
 * block, one F16 scale, Q4_1/Q5_1 also a minimum) and the K-quants Q4_K, Q5_K, Q6_K (256 values a block, 6- or
 * 8-bit sub-block scales under F16 super-block scales).
 */
public final class GgmlBlocks {

    private GgmlBlocks() {
    }

    /**
     * Decodes {@code count} values (a multiple of the type's block size) from {@code src}, starting at byte
     * {@code at}, into {@code dst[dstOffset...]}.
     *
     * @throws IllegalArgumentException for a type this library does not decode
     */
    public static void decode(GgmlType type, ByteBuffer src, int at, float[] dst, int dstOffset, int count) {
        int blocks = count / type.blockSize();
        int bb = type.blockBytes();
        switch (type) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = src.getFloat(at + 4 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = SafetensorsDtype.halfToFloat(src.getShort(at + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = SafetensorsDtype.bf16ToFloat(src.getShort(at + 2 * i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = at + b * bb;
                    float d = half(src, p);
                    int o = dstOffset + 32 * b;
                    for (int j = 0; j < 32; j++) {
                        dst[o + j] = src.get(p + 2 + j) * d;
                    }
                }
            }
            case Q4_0, Q4_1 -> {
                boolean min = type == GgmlType.Q4_1;
                for (int b = 0; b < blocks; b++) {
                    int p = at + b * bb;
                    float d = half(src, p);
                    float m = min ? half(src, p + 2) : 0f;
                    int qs = p + (min ? 4 : 2);
                    int o = dstOffset + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int q = src.get(qs + j) & 0xFF;
                        if (min) {
                            dst[o + j] = (q & 0x0F) * d + m;
                            dst[o + j + 16] = (q >>> 4) * d + m;
                        } else {
                            dst[o + j] = ((q & 0x0F) - 8) * d;
                            dst[o + j + 16] = ((q >>> 4) - 8) * d;
                        }
                    }
                }
            }
            case Q5_0, Q5_1 -> {
                boolean min = type == GgmlType.Q5_1;
                for (int b = 0; b < blocks; b++) {
                    int p = at + b * bb;
                    float d = half(src, p);
                    float m = min ? half(src, p + 2) : 0f;
                    int hp = p + (min ? 4 : 2);
                    int qh = src.getInt(hp);
                    int qs = hp + 4;
                    int o = dstOffset + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int q = src.get(qs + j) & 0xFF;
                        int xh0 = ((qh >>> j) << 4) & 0x10;
                        int xh1 = (qh >>> (j + 12)) & 0x10;
                        int x0 = (q & 0x0F) | xh0;
                        int x1 = (q >>> 4) | xh1;
                        if (min) {
                            dst[o + j] = x0 * d + m;
                            dst[o + j + 16] = x1 * d + m;
                        } else {
                            dst[o + j] = (x0 - 16) * d;
                            dst[o + j + 16] = (x1 - 16) * d;
                        }
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = type == GgmlType.Q5_K;
                for (int b = 0; b < blocks; b++) {
                    int p = at + b * bb;
                    float d = half(src, p);
                    float dmin = half(src, p + 2);
                    int scales = p + 4;
                    int qh = p + 16;
                    int ql = five ? p + 48 : p + 16;
                    int o = dstOffset + 256 * b;
                    int is = 0;
                    int u1 = 1;
                    int u2 = 2;
                    for (int j = 0; j < 256; j += 64) {
                        float d1 = d * scale(src, scales, is);
                        float m1 = dmin * min(src, scales, is);
                        float d2 = d * scale(src, scales, is + 1);
                        float m2 = dmin * min(src, scales, is + 1);
                        for (int l = 0; l < 32; l++) {
                            int q = src.get(ql + l) & 0xFF;
                            int h1 = 0;
                            int h2 = 0;
                            if (five) {
                                int h = src.get(qh + l) & 0xFF;
                                h1 = (h & u1) != 0 ? 16 : 0;
                                h2 = (h & u2) != 0 ? 16 : 0;
                            }
                            dst[o + j + l] = d1 * ((q & 0x0F) + h1) - m1;
                            dst[o + j + 32 + l] = d2 * ((q >>> 4) + h2) - m2;
                        }
                        ql += 32;
                        is += 2;
                        u1 <<= 2;
                        u2 <<= 2;
                    }
                }
            }
            case Q6_K -> {
                for (int b = 0; b < blocks; b++) {
                    int p = at + b * bb;
                    float d = half(src, p + 208);
                    int ql = p;
                    int qh = p + 128;
                    int sc = p + 192;
                    int o = dstOffset + 256 * b;
                    for (int n = 0; n < 256; n += 128) {
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int lo = src.get(ql + l) & 0xFF;
                            int hi = src.get(ql + l + 32) & 0xFF;
                            int h = src.get(qh + l) & 0xFF;
                            int q1 = ((lo & 0x0F) | ((h & 3) << 4)) - 32;
                            int q2 = ((hi & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                            int q3 = ((lo >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                            int q4 = ((hi >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                            dst[o + n + l] = d * src.get(sc + is) * q1;
                            dst[o + n + l + 32] = d * src.get(sc + is + 2) * q2;
                            dst[o + n + l + 64] = d * src.get(sc + is + 4) * q3;
                            dst[o + n + l + 96] = d * src.get(sc + is + 6) * q4;
                        }
                        ql += 64;
                        qh += 32;
                        sc += 8;
                    }
                }
            }
            default -> throw new IllegalArgumentException("ggml type " + type + " is not decoded by this library;"
                    + " decoded: " + decodedTypes());
        }
    }

    /** The names of the types {@link #decode} converts. */
    public static String decodedTypes() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : GgmlType.values()) {
            if (t.decodable()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(t);
            }
        }
        return sb.toString();
    }

    private static float half(ByteBuffer b, int at) {
        return SafetensorsDtype.halfToFloat(b.getShort(at));
    }

    /** The 6-bit scale {@code j} (0..7) of a K-quant block's 12 scale bytes ({@code get_scale_min_k4}). */
    private static int scale(ByteBuffer b, int q, int j) {
        if (j < 4) {
            return b.get(q + j) & 63;
        }
        return (b.get(q + j + 4) & 0x0F) | (((b.get(q + j - 4) & 0xFF) >>> 6) << 4);
    }

    /** The 6-bit minimum {@code j} (0..7) of a K-quant block's 12 scale bytes. */
    private static int min(ByteBuffer b, int q, int j) {
        if (j < 4) {
            return b.get(q + j + 4) & 63;
        }
        return ((b.get(q + j + 4) & 0xFF) >>> 4) | (((b.get(q + j) & 0xFF) >>> 6) << 4);
    }
}
