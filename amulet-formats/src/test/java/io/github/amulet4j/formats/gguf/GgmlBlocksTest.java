package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The block decoders against a double-precision reference written here from the block layouts (field by field,
 * value index by value index, not in ggml's loop order), on random blocks; and the writer's Q8_0 / Q4_0
 * quantization within the formats' error.
 */
class GgmlBlocksTest {

    private static final int BLOCKS = 7;

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void decodesLikeTheDoubleReference(GgmlType type) {
        SplittableRandom r = new SplittableRandom(type.id());
        byte[] data = new byte[BLOCKS * type.blockBytes()];
        r.nextBytes(data);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        // sane F16 scales (random bits would give infinities and NaNs)
        for (int blk = 0; blk < BLOCKS; blk++) {
            int p = blk * type.blockBytes();
            for (int off : scaleOffsets(type)) {
                b.putShort(p + off, SafetensorsDtype.floatToHalf((float) (r.nextDouble(-0.05, 0.05))));
            }
        }
        int n = BLOCKS * type.blockSize();
        float[] got = new float[n + 3];
        GgmlBlocks.decode(type, b, 0, got, 3, n);
        double maxRef = 0;
        for (int i = 0; i < n; i++) {
            double want = reference(type, b, i);
            maxRef = Math.max(maxRef, Math.abs(want));
            assertEquals(want, got[3 + i], 1e-6 * Math.max(1, Math.abs(want)), type + " value " + i);
        }
        assertTrue(maxRef > 0.01, "the values are not all tiny: " + maxRef);
    }

    private static int[] scaleOffsets(GgmlType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(t.name());
        };
    }

    private static double f16(ByteBuffer b, int at) {
        return SafetensorsDtype.halfToFloat(b.getShort(at));
    }

    private static int u8(ByteBuffer b, int at) {
        return b.get(at) & 0xFF;
    }

    /** Bit {@code bit} of a little-endian bit string starting at byte {@code at}. */
    private static int bit(ByteBuffer b, int at, int bit) {
        return (u8(b, at + bit / 8) >> (bit % 8)) & 1;
    }

    /** Value {@code i} of the data, in double precision, from the layout descriptions. */
    static double reference(GgmlType t, ByteBuffer b, int i) {
        int blk = i / t.blockSize();
        int k = i % t.blockSize();
        int p = blk * t.blockBytes();
        switch (t) {
            case Q8_0:
                return f16(b, p) * b.get(p + 2 + k);
            case Q4_0:
            case Q4_1: {
                // values 0..15 in the low nibbles of qs[0..15], values 16..31 in the high nibbles
                int qs = p + (t == GgmlType.Q4_1 ? 4 : 2);
                int nib = k < 16 ? u8(b, qs + k) % 16 : u8(b, qs + k - 16) / 16;
                return t == GgmlType.Q4_1 ? f16(b, p) * nib + f16(b, p + 2) : f16(b, p) * (nib - 8);
            }
            case Q5_0:
            case Q5_1: {
                // a fifth bit for value k is bit k of the 32-bit qh
                boolean one = t == GgmlType.Q5_1;
                int qh = p + (one ? 4 : 2);
                int qs = qh + 4;
                int nib = k < 16 ? u8(b, qs + k) % 16 : u8(b, qs + k - 16) / 16;
                int q = nib + 16 * bit(b, qh, k);
                return one ? f16(b, p) * q + f16(b, p + 2) : f16(b, p) * (q - 16);
            }
            case Q4_K:
            case Q5_K: {
                // 8 sub-blocks of 32; sub-block s has a 6-bit scale and min packed in 12 bytes
                int s = k / 32;
                int sc = p + 4;
                int scale;
                int min;
                if (s < 4) {
                    scale = u8(b, sc + s) % 64;
                    min = u8(b, sc + 4 + s) % 64;
                } else {
                    scale = u8(b, sc + 8 + s - 4) % 16 + 16 * (u8(b, sc + s - 4) / 64);
                    min = u8(b, sc + 8 + s - 4) / 16 + 16 * (u8(b, sc + 4 + s - 4) / 64);
                }
                // sub-blocks 2j and 2j+1 share the 32 bytes qs[32j..32j+31]: low nibbles, then high nibbles
                int qs = p + (t == GgmlType.Q5_K ? 48 : 16);
                int byteAt = qs + 32 * (s / 2) + k % 32;
                int q = s % 2 == 0 ? u8(b, byteAt) % 16 : u8(b, byteAt) / 16;
                if (t == GgmlType.Q5_K) {
                    // the fifth bit of value k is bit s of qh[k % 32]
                    q += 16 * ((u8(b, p + 16 + k % 32) >> s) & 1);
                }
                return f16(b, p) * scale * q - f16(b, p + 2) * min;
            }
            case Q6_K: {
                // two halves of 128; in a half, quarter qq (0..3) of 32 values: low 4 bits from ql, 2 high bits from qh
                int half = k / 128;
                int j = k % 128;
                int qq = j / 32;
                int l = j % 32;
                int ql = p + 64 * half;
                int qh = p + 128 + 32 * half;
                int lowByte = u8(b, ql + l + 32 * (qq % 2));
                int low = qq < 2 ? lowByte % 16 : lowByte / 16;
                int high = (u8(b, qh + l) >> (2 * qq)) & 3;
                int q = low + 16 * high - 32;
                int scale = b.get(p + 192 + 8 * half + 2 * qq + l / 16);
                return f16(b, p + 208) * scale * q;
            }
            default:
                throw new IllegalArgumentException(t.name());
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void writerQuantizesWithinTheFormatsError(GgmlType type) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[32 * 20];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * (1 + i / 32);
        }
        byte[] enc = GgufWriter.encode(type, x);
        assertEquals(20 * type.blockBytes(), enc.length);
        float[] y = new float[x.length];
        GgmlBlocks.decode(type, ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN), 0, y, 0, x.length);
        for (int blk = 0; blk < 20; blk++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * blk + j]));
            }
            // Q8_0: step amax/127, rounded to nearest; Q4_0: step amax/8, the far side clamped at one step
            double step = type == GgmlType.Q8_0 ? amax / 127.0 : amax / 8.0;
            double bound = type == GgmlType.Q8_0 ? 0.57 * step : 1.07 * step;
            for (int j = 0; j < 32; j++) {
                int i = 32 * blk + j;
                assertTrue(Math.abs(x[i] - y[i]) <= bound, type + " value " + i + ": " + x[i] + " -> " + y[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q6_K", "Q4_0", "Q4_K"})
    void encodersRoundTripWithTheirStepSize(GgmlType type) {
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[256 * 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        byte[] enc = KQuantEncoder.encode(type, x);
        float[] y = new float[x.length];
        GgmlBlocks.decode(type, ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN), 0, y, 0, x.length);
        double se = 0;
        for (int i = 0; i < x.length; i++) {
            se += (x[i] - y[i]) * (x[i] - y[i]);
        }
        double rms = Math.sqrt(se / x.length);
        // uniform rounding error of a step s has rms s/sqrt(12); a block's step is about its range / levels
        double bound = switch (type) {
            case Q8_0 -> 2 * 2.5 / 127 / Math.sqrt(12);
            case Q6_K -> 2 * 2.0 / 31 / Math.sqrt(12);
            case Q4_0 -> 2 * 2.5 / 8 / Math.sqrt(12);
            default -> 2 * 4.0 / 15 / Math.sqrt(12);
        };
        org.slf4j.LoggerFactory.getLogger(GgmlBlocksTest.class).info("{} round trip rms error {}", type, rms);
        assertTrue(rms < bound, type + " rms error " + rms + " >= " + bound);
    }

    @Test
    void undecodedTypeRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgmlBlocks.decode(GgmlType.Q2_K, ByteBuffer.allocate(84), 0, new float[256], 0, 256));
        assertTrue(e.getMessage().contains("Q2_K") && e.getMessage().contains("Q6_K"), e.getMessage());
    }
}
