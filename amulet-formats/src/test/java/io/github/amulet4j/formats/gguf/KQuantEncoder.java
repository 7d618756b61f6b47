package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufWriter;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A plain Q4_K, Q6_K and Q5_0 quantizer for tests (min/max scales, no search for the best ones as llama.cpp's
 * {@code make_qkx2_quants} does, so its error is somewhat larger than llama.cpp's): packs the blocks in ggml's
 * layouts, which {@link GgmlBlocks} reads.
 */
public final class KQuantEncoder {

    private KQuantEncoder() {
    }

    public static byte[] encode(GgmlType type, float[] v) {
        return switch (type) {
            case Q4_K -> q4k(v);
            case Q6_K -> q6k(v);
            case Q5_0 -> q50(v);
            default -> GgufWriter.encode(type, v);
        };
    }

    /**
     * Q5_0 as ggml's reference rounding: per block of 32, {@code d = -m / 16} with {@code m} the value of largest
     * magnitude, {@code q = min(31, (int) (x / d + 16.5))}; low nibbles of weights 0..15 and 16..31 in 16 bytes, their
     * fifth bits in {@code qh}.
     */
    public static byte[] q50(float[] v) {
        ByteBuffer out = ByteBuffer.allocate(v.length / 32 * 22).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < v.length; b += 32) {
            float m = 0;
            for (int j = 0; j < 32; j++) {
                if (Math.abs(v[b + j]) > Math.abs(m)) {
                    m = v[b + j];
                }
            }
            float d = m / -16;
            float id = d != 0 ? 1 / d : 0;
            int[] q = new int[32];
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                q[j] = Math.min(31, (int) (v[b + j] * id + 16.5f));
                qh |= ((q[j] >> 4) & 1) << j;
            }
            int at = b / 32 * 22;
            out.putShort(at, SafetensorsDtype.floatToHalf(d));
            out.putInt(at + 2, qh);
            for (int j = 0; j < 16; j++) {
                out.put(at + 6 + j, (byte) ((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4)));
            }
        }
        return out.array();
    }

    private static float f16(float x) {
        return SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf(x));
    }

    public static byte[] q4k(float[] v) {
        ByteBuffer out = ByteBuffer.allocate(v.length / 256 * 144).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < v.length; b += 256) {
            float[] scale = new float[8];
            float[] min = new float[8];
            for (int j = 0; j < 8; j++) {
                float lo = 0;
                float hi = 0;
                for (int l = 0; l < 32; l++) {
                    lo = Math.min(lo, v[b + 32 * j + l]);
                    hi = Math.max(hi, v[b + 32 * j + l]);
                }
                scale[j] = (hi - lo) / 15;
                min[j] = -lo;
            }
            float d = 0;
            float dmin = 0;
            for (int j = 0; j < 8; j++) {
                d = Math.max(d, scale[j] / 63);
                dmin = Math.max(dmin, min[j] / 63);
            }
            float dq = f16(d);
            float mq = f16(dmin);
            int[] sc = new int[8];
            int[] m = new int[8];
            for (int j = 0; j < 8; j++) {
                sc[j] = dq == 0 ? 0 : Math.min(63, Math.round(scale[j] / dq));
                m[j] = mq == 0 ? 0 : Math.min(63, Math.round(min[j] / mq));
            }
            out.putShort(SafetensorsDtype.floatToHalf(d));
            out.putShort(SafetensorsDtype.floatToHalf(dmin));
            byte[] s = new byte[12];
            for (int j = 0; j < 4; j++) {
                s[j] = (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
                s[j + 4] = (byte) ((m[j] & 63) | ((m[j + 4] >> 4) << 6));
                s[j + 8] = (byte) ((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
            }
            out.put(s);
            int[] q = new int[256];
            for (int i = 0; i < 256; i++) {
                int j = i / 32;
                float step = dq * sc[j];
                q[i] = step == 0 ? 0 : Math.max(0, Math.min(15, Math.round((v[b + i] + mq * m[j]) / step)));
            }
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    out.put((byte) (q[64 * c + l] | (q[64 * c + 32 + l] << 4)));
                }
            }
        }
        return out.array();
    }

    public static byte[] q6k(float[] v) {
        ByteBuffer out = ByteBuffer.allocate(v.length / 256 * 210).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < v.length; b += 256) {
            float[] scale = new float[16];
            float d = 0;
            for (int k = 0; k < 16; k++) {
                float amax = 0;
                for (int l = 0; l < 16; l++) {
                    amax = Math.max(amax, Math.abs(v[b + 16 * k + l]));
                }
                scale[k] = amax / 31;
                d = Math.max(d, scale[k] / 127);
            }
            float dq = f16(d);
            int[] sc = new int[16];
            for (int k = 0; k < 16; k++) {
                sc[k] = dq == 0 ? 0 : Math.min(127, Math.round(scale[k] / dq));
            }
            int[] q = new int[256];
            for (int i = 0; i < 256; i++) {
                float step = dq * sc[i / 16];
                q[i] = (step == 0 ? 0 : Math.max(-32, Math.min(31, Math.round(v[b + i] / step)))) + 32;
            }
            byte[] ql = new byte[128];
            byte[] qh = new byte[64];
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l++) {
                    int q1 = q[128 * n + l];
                    int q2 = q[128 * n + l + 32];
                    int q3 = q[128 * n + l + 64];
                    int q4 = q[128 * n + l + 96];
                    ql[64 * n + l] = (byte) ((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[64 * n + l + 32] = (byte) ((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[32 * n + l] = (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
            out.put(ql).put(qh);
            for (int k = 0; k < 16; k++) {
                out.put((byte) sc[k]);
            }
            out.putShort(SafetensorsDtype.floatToHalf(d));
        }
        return out.array();
    }
}
