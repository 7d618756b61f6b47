package io.github.amulet4j.transformer.weights;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantization and dequantization against a double-precision reference of the block formulas, the documented
 * error bounds, and hand-built blocks in ggml's byte layout.
 */
class BlockQuantizerTest {

    private static final int BLOCKS = 400;

    @Test
    void q80MatchesTheBlockFormulaInDoubleAndStaysWithinItsBound() {
        for (float[] x : samples()) {
            ByteBuffer b = encode(WeightFormat.Q8_0, x);
            float[] back = decode(WeightFormat.Q8_0, b, x.length);
            for (int k = 0; k < x.length / 32; k++) {
                double amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs((double) x[k * 32 + j]));
                }
                double d = amax / 127;
                double dh = SafetensorsDtype.halfToFloat(b.getShort(k * 34));
                assertEquals(SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf((float) d)), dh, 0, "scale");
                for (int j = 0; j < 32; j++) {
                    int at = k * 32 + j;
                    double ratio = d == 0 ? 0 : x[at] / d;
                    int q = b.get(k * 34 + 2 + j);
                    if (!nearTie(ratio)) {
                        assertEquals(Math.round(Math.abs(ratio)) * Math.signum(ratio), q, 0, "code of " + at);
                    }
                    assertEquals(dh * q, back[at], 0, "dequantized " + at + " is d * q exactly");
                    double bound = d / 2 + 127 * scaleRounding(d) + 1e-6 * amax;
                    assertTrue(Math.abs(x[at] - back[at]) <= bound, "error of " + at + ": " + Math.abs(x[at] - back[at])
                            + " > " + bound);
                }
            }
        }
    }

    @Test
    void q40MatchesTheBlockFormulaInDoubleAndStaysWithinItsBound() {
        for (float[] x : samples()) {
            ByteBuffer b = encode(WeightFormat.Q4_0, x);
            float[] back = decode(WeightFormat.Q4_0, b, x.length);
            for (int k = 0; k < x.length / 32; k++) {
                double m = 0;
                for (int j = 0; j < 32; j++) {
                    if (Math.abs(x[k * 32 + j]) > Math.abs(m)) {
                        m = x[k * 32 + j];
                    }
                }
                double d = m / -8;
                double dh = SafetensorsDtype.halfToFloat(b.getShort(k * 18));
                for (int j = 0; j < 32; j++) {
                    int at = k * 32 + j;
                    int packed = b.get(k * 18 + 2 + (j % 16)) & 0xFF;
                    int q = j < 16 ? packed & 0xF : packed >>> 4;
                    double v = d == 0 ? 8.5 : x[at] / d + 8.5;
                    if (!nearTie(v - 0.5)) {
                        assertEquals(Math.min(15, (int) Math.floor(v)), q, "code of " + at);
                    }
                    assertEquals(dh * (q - 8), back[at], 0, "dequantized " + at + " is d * (q - 8) exactly");
                    boolean clamped = x[at] * m < 0 && Math.abs(x[at]) > 7.5 * Math.abs(d);
                    double bound = (clamped ? Math.abs(d) : Math.abs(d) / 2) + 8 * scaleRounding(Math.abs(d))
                            + 1e-6 * Math.abs(m);
                    assertTrue(Math.abs(x[at] - back[at]) <= bound, "error of " + at + ": " + Math.abs(x[at] - back[at])
                            + " > " + bound);
                }
            }
        }
    }

    @Test
    void floatFormatsRoundToNearestWithinTheirRelativeBounds() {
        for (float[] x : samples()) {
            assertArrayEquals(x, decode(WeightFormat.F32, encode(WeightFormat.F32, x), x.length));
            float[] bf = decode(WeightFormat.BF16, encode(WeightFormat.BF16, x), x.length);
            float[] h = decode(WeightFormat.F16, encode(WeightFormat.F16, x), x.length);
            for (int i = 0; i < x.length; i++) {
                assertTrue(Math.abs(x[i] - bf[i]) <= 0x1p-8 * Math.abs(x[i]), "bf16 " + x[i] + " -> " + bf[i]);
                double hb = Math.abs(x[i]) >= 0x1p-14 ? 0x1p-11 * Math.abs(x[i]) : 0x1p-25;
                assertTrue(Math.abs(x[i] - h[i]) <= hb, "f16 " + x[i] + " -> " + h[i]);
            }
        }
    }

    @Test
    void handBuiltGgmlBlocksDecodeAsGgmlDefinesThem() {
        // Q8_0: d = 0.5 (half 0x3800), q = 0, 1, -2, 3, ...
        ByteBuffer q8 = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        q8.putShort(0, (short) 0x3800);
        for (int j = 0; j < 32; j++) {
            q8.put(2 + j, (byte) (j % 2 == 0 ? j : -j));
        }
        float[] v = decode(WeightFormat.Q8_0, q8, 32);
        for (int j = 0; j < 32; j++) {
            assertEquals(0.5f * (j % 2 == 0 ? j : -j), v[j], 0);
        }
        // Q4_0: d = 2 (half 0x4000); byte j holds weight j in its low nibble and weight j + 16 in its high nibble
        ByteBuffer q4 = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        q4.putShort(0, (short) 0x4000);
        for (int j = 0; j < 16; j++) {
            q4.put(2 + j, (byte) ((j & 0xF) | ((15 - j) << 4)));
        }
        v = decode(WeightFormat.Q4_0, q4, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(2f * (j - 8), v[j], 0, "low nibble " + j);
            assertEquals(2f * (15 - j - 8), v[16 + j], 0, "high nibble " + j);
        }
        // and the quantizer writes exactly those bytes back
        assertEquals(q4, encode(WeightFormat.Q4_0, v).rewind());
        assertEquals(WeightFormat.Q4_0, WeightFormat.ofGgmlType(2));
        assertEquals(WeightFormat.Q8_0, WeightFormat.ofGgmlType(8));
        assertEquals(WeightFormat.BF16, WeightFormat.ofGgmlType(30));
    }

    @Test
    void badInputIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse("q3_k"));
        assertTrue(e.getMessage().contains("q8_0"), e.getMessage());
        assertEquals(WeightFormat.Q4_0, WeightFormat.parse(" Q4_0 "));
        e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(WeightFormat.Q8_0, new float[40], 1, 40));
        assertTrue(e.getMessage().contains("40 weights"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of(WeightFormat.F16, new float[] {1e6f}, 1, 1));
        assertTrue(e.getMessage().contains("F16 range"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.wrap(WeightFormat.Q4_0, 2, 32, ByteBuffer.allocate(35)));
        assertTrue(e.getMessage().contains("needs 36 bytes"), e.getMessage());
    }

    /** Gaussian blocks at several scales (subnormal-half scales included), blocks with zeros, ties and outliers. */
    static float[][] samples() {
        Random random = new Random(11);
        float[][] out = new float[5][];
        double[] scales = {1, 0.02, 1e-5, 300};
        for (int s = 0; s < scales.length; s++) {
            float[] x = new float[BLOCKS * 32];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * scales[s]);
            }
            out[s] = x;
        }
        float[] x = new float[BLOCKS * 32];
        for (int i = 0; i < x.length; i++) {
            int block = i / 32;
            x[i] = switch (block % 4) {
                case 0 -> 0f;
                case 1 -> (i % 32) - 16;                       // integers: exact ties for Q4_0 and Q8_0 ratios
                case 2 -> i % 32 == 5 ? -40f : (float) random.nextGaussian();  // one outlier
                default -> i % 32 == 0 ? 8f : -8f;           // equal magnitudes of both signs
            };
        }
        out[4] = x;
        return out;
    }

    private static boolean nearTie(double v) {
        double frac = Math.abs(v) - Math.floor(Math.abs(v));
        return Math.abs(frac - 0.5) < 1e-4;
    }

    private static double scaleRounding(double d) {
        return Math.max(0x1p-11 * d, 0x1p-25);
    }

    static ByteBuffer encode(WeightFormat f, float[] x) {
        ByteBuffer b = ByteBuffer.allocate((int) (f.rowBytes(x.length))).order(ByteOrder.LITTLE_ENDIAN);
        BlockQuantizer.encode(f, x, 0, x.length, b, 0);
        return b;
    }

    static float[] decode(WeightFormat f, ByteBuffer b, int n) {
        float[] out = new float[n];
        BlockQuantizer.decode(f, b, 0, out, 0, n);
        return out;
    }
}
