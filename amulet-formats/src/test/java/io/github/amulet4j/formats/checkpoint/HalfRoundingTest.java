package io.github.amulet4j.formats.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link SafetensorsDtype#floatToHalf} and {@link SafetensorsDtype#halfToFloat}, the conversions of the float16 KV
 * cache: every one of the 65,536 halfs widens and narrows back to its own bits (NaNs to a NaN); floats round to the
 * nearest half, ties to the even one, against an independent search in doubles over the sorted values of every
 * finite half (65,520 and beyond to infinity), on random floats of every magnitude and on the edges: ties, the largest
 * half, just above it, the smallest subnormal, values too small for any half, negative zero.
 */
class HalfRoundingTest {

    /** The values of the non-negative halfs 0x0000 .. 0x7C00 (the last: infinity, as 65536 for the search). */
    private static final double[] LADDER = ladder();

    private static double[] ladder() {
        double[] v = new double[0x7C01];
        for (int h = 0; h < 0x7C00; h++) {
            int e = h >>> 10;
            int m = h & 0x3FF;
            v[h] = e == 0 ? m * Math.pow(2, -24) : (1024 + m) * Math.pow(2, e - 25);
        }
        v[0x7C00] = 65536; // where rounding past 65504 goes: the next power of two, beyond every finite half
        return v;
    }

    /** The nearest half's bits by a search in doubles, ties to the even bits; beyond 65504 rounding up, infinity. */
    private static int reference(float f) {
        int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
        double a = Math.abs((double) f);
        if (a >= 65536) {
            return sign | 0x7C00;
        }
        int i = Arrays.binarySearch(LADDER, a);
        if (i >= 0) {
            return sign | i;
        }
        int above = -i - 1;
        int below = above - 1;
        double down = a - LADDER[below];
        double up = LADDER[above] - a;
        int h = down < up ? below : up < down ? above : (below % 2 == 0 ? below : above);
        return sign | h;
    }

    @Test
    void everyHalfWidensAndNarrowsBackToItsBits() {
        int nans = 0;
        for (int h = 0; h < 0x10000; h++) {
            float f = SafetensorsDtype.halfToFloat((short) h);
            int back = SafetensorsDtype.floatToHalf(f) & 0xFFFF;
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (nan) {
                nans++;
                assertTrue(Float.isNaN(f), "half " + Integer.toHexString(h) + " is a NaN");
                assertTrue((back & 0x7C00) == 0x7C00 && (back & 0x3FF) != 0, "NaN " + Integer.toHexString(h)
                        + " narrows to a NaN, got " + Integer.toHexString(back));
            } else if (back != h) {
                fail("half " + Integer.toHexString(h) + " -> " + f + " -> " + Integer.toHexString(back));
            }
            if (!nan && (h & 0x7FFF) <= 0x7C00) {
                // the widening is exact: the ladder's value, with the sign
                double want = ((h & 0x8000) != 0 ? -1 : 1) * ((h & 0x7FFF) == 0x7C00 ? Double.POSITIVE_INFINITY
                        : LADDER[h & 0x7FFF]);
                assertEquals(want, f, 0.0, "half " + Integer.toHexString(h));
            }
        }
        assertEquals(2 * 1023, nans);
    }

    @Test
    void edgesRoundToTheNearestHalfTiesToEven() {
        float smallest = (float) Math.pow(2, -24);
        float[] edges = {0f, -0f, 65504f, -65504f, 65519.996f, 65520f, 65536f, Float.MAX_VALUE, smallest, -smallest,
                smallest / 2, smallest / 2 * 1.0000001f, smallest * 1.5f, smallest * 2.5f, smallest / 4, 1e-30f,
                -1e-30f, Float.MIN_VALUE, 1f + (float) Math.pow(2, -11), 1f + 3 * (float) Math.pow(2, -11),
                2048f + 1f, 2048f + 3f, (float) Math.pow(2, -14), (float) Math.pow(2, -14) * (1 - (float) Math.pow(2,
                -12)), 0.1f, -0.3f, 1f / 3, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (float f : edges) {
            assertEquals(reference(f), SafetensorsDtype.floatToHalf(f) & 0xFFFF, "value " + f);
        }
        // the named cases, spelled out
        assertEquals(0x8000, SafetensorsDtype.floatToHalf(-0f) & 0xFFFF, "negative zero");
        assertEquals(0x7BFF, SafetensorsDtype.floatToHalf(65504f) & 0xFFFF, "the largest half");
        assertEquals(0x7BFF, SafetensorsDtype.floatToHalf(65519.996f) & 0xFFFF, "below halfway to 65536");
        assertEquals(0x7C00, SafetensorsDtype.floatToHalf(65520f) & 0xFFFF, "halfway past the largest: infinity");
        assertEquals(0x0001, SafetensorsDtype.floatToHalf(smallest) & 0xFFFF, "the smallest subnormal");
        assertEquals(0x0000, SafetensorsDtype.floatToHalf(smallest / 2) & 0xFFFF, "a tie between 0 and it: 0");
        assertEquals(0x0002, SafetensorsDtype.floatToHalf(smallest * 1.5f) & 0xFFFF, "a tie of 1 and 2: 2");
        assertEquals(0x0002, SafetensorsDtype.floatToHalf(smallest * 2.5f) & 0xFFFF, "a tie of 2 and 3: 2");
        assertEquals(0x3C00, SafetensorsDtype.floatToHalf(1f + (float) Math.pow(2, -11)) & 0xFFFF, "tie to even 1");
        assertEquals(0x3C02, SafetensorsDtype.floatToHalf(1f + 3 * (float) Math.pow(2, -11)) & 0xFFFF, "tie up");
        assertTrue(Float.isNaN(SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf(Float.NaN))));
    }

    @Test
    void randomFloatsOfEveryMagnitudeRoundToTheNearestHalf() {
        SplittableRandom random = new SplittableRandom(26);
        for (int i = 0; i < 2_000_000; i++) {
            float f;
            if (i % 4 == 0) {
                // any float bits but NaN: every magnitude, mostly far from the halfs' range
                do {
                    f = Float.intBitsToFloat(random.nextInt());
                } while (Float.isNaN(f));
            } else if (i % 4 == 1) {
                // a tie or its neighbours: a half's value plus half its step, one float ulp either way
                int h = random.nextInt(0x7BFF);
                float mid = (float) ((LADDER[h] + LADDER[h + 1]) / 2);
                f = (random.nextBoolean() ? 1 : -1) * (i % 3 == 0 ? mid : i % 3 == 1 ? Math.nextUp(mid)
                        : Math.nextDown(mid));
            } else {
                // the halfs' range, subnormals to beyond the largest: 2^-26 .. 2^17
                f = (float) ((random.nextBoolean() ? 1 : -1) * Math.pow(2, -26 + 43 * random.nextDouble()));
            }
            int want = reference(f);
            int got = SafetensorsDtype.floatToHalf(f) & 0xFFFF;
            if (want != got) {
                fail("value " + f + " (bits " + Integer.toHexString(Float.floatToRawIntBits(f)) + "): half "
                        + Integer.toHexString(got) + ", nearest " + Integer.toHexString(want));
            }
        }
    }
}
