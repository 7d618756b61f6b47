package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Conversions checked against naive references built from the format definitions. */
class SafetensorsDtypeTest {

    /** Value of half bits from the IEEE formula, in double. */
    static double naiveHalf(int h) {
        int sign = (h >> 15) & 1;
        int exp = (h >> 10) & 0x1F;
        int mant = h & 0x3FF;
        double s = sign == 1 ? -1 : 1;
        if (exp == 0x1F) {
            return mant == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (exp == 0) {
            return s * Math.pow(2, -14) * (mant / 1024.0);
        }
        return s * Math.pow(2, exp - 15) * (1 + mant / 1024.0);
    }

    /** Nearest half (ties to even mantissa) by scanning all finite non-negative halves. */
    static int naiveFloatToHalf(float f) {
        double a = Math.abs((double) f);
        int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
        double max = naiveHalf(0x7BFF);
        double maxUlp = Math.pow(2, 15 - 10);
        if (a >= max + maxUlp / 2) {
            return sign | 0x7C00;
        }
        int best = 0;
        double bestDist = Double.MAX_VALUE;
        for (int h = 0; h <= 0x7BFF; h++) {
            double d = Math.abs(naiveHalf(h) - a);
            if (d < bestDist || (d == bestDist && (h & 1) == 0)) {
                best = h;
                bestDist = d;
            }
        }
        return sign | best;
    }

    /** Nearest bfloat16 (ties to even) by comparing the two candidates around the value in double. */
    static int naiveFloatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lo = bits >>> 16;
        int hi = lo + 1;
        double vlo = Float.intBitsToFloat(lo << 16);
        double vhi = Float.intBitsToFloat(hi << 16);
        double dlo = Math.abs(f - vlo);
        double dhi = Math.abs(f - vhi);
        if (dlo < dhi) {
            return lo & 0xFFFF;
        }
        if (dhi < dlo) {
            return hi & 0xFFFF;
        }
        return ((lo & 1) == 0 ? lo : hi) & 0xFFFF;
    }

    @Test
    void halfToFloatMatchesFormulaForAllBitPatterns() {
        for (int h = 0; h < 0x10000; h++) {
            double expected = naiveHalf(h);
            float got = SafetensorsDtype.halfToFloat((short) h);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(got), "bits " + Integer.toHexString(h));
            } else {
                assertEquals(expected, got, 0.0, "bits " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void floatToHalfRoundsToNearestEven() {
        float[] edge = {0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, 1e6f, 5.96e-8f, 2.98e-8f, 2.99e-8f,
            6.1035156e-5f, 6.1e-5f, 1.0009766f, 1.00048828125f, 1.00146484375f, 3.14159f, -2.71828f, 1e-10f};
        Random r = new Random(7);
        float[] vals = Arrays.copyOf(edge, edge.length + 600);
        for (int i = edge.length; i < vals.length; i++) {
            vals[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(12) - 7));
        }
        // exact midpoints between neighbouring halves
        vals[edge.length] = (float) ((naiveHalf(0x3C00) + naiveHalf(0x3C01)) / 2);
        vals[edge.length + 1] = (float) ((naiveHalf(0x3C01) + naiveHalf(0x3C02)) / 2);
        vals[edge.length + 2] = (float) ((naiveHalf(0x0001) + naiveHalf(0x0002)) / 2);
        for (float v : vals) {
            assertEquals(naiveFloatToHalf(v), SafetensorsDtype.floatToHalf(v) & 0xFFFF, "value " + v);
        }
        assertTrue(Float.isNaN(SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf(Float.NaN))));
        assertEquals(0x7C00, SafetensorsDtype.floatToHalf(Float.POSITIVE_INFINITY) & 0xFFFF);
    }

    @Test
    void floatToBf16RoundsToNearestEven() {
        Random r = new Random(11);
        for (int i = 0; i < 20000; i++) {
            float v = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(v) || Float.isInfinite(v) || Math.abs(v) > 3.3e38f) {
                continue;
            }
            assertEquals(naiveFloatToBf16(v), SafetensorsDtype.floatToBf16(v) & 0xFFFF, "value " + v);
        }
        // ties: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> even (1); 1 + 3*2^-8 -> 1 + 2^-6
        assertEquals(1.0f, SafetensorsDtype.bf16ToFloat(SafetensorsDtype.floatToBf16(1f + 0x1p-8f)));
        assertEquals(1f + 0x1p-6f, SafetensorsDtype.bf16ToFloat(SafetensorsDtype.floatToBf16(1f + 3 * 0x1p-8f)));
        assertTrue(Float.isNaN(SafetensorsDtype.bf16ToFloat(SafetensorsDtype.floatToBf16(Float.NaN))));
    }
}
