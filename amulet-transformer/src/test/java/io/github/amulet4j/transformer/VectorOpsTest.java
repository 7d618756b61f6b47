package io.github.amulet4j.transformer;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector loops for GELU-tanh and soft-capping against float64 references computed here with {@link Math#tanh},
 * and the same value giving the same bits in a vector lane and in a loop's tail.
 */
class VectorOpsTest {

    /** Values from -12 to 12 with the ranges each branch covers (tiny, around the polynomial's edge, saturated). */
    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = switch (i % 4) {
                case 0 -> (float) (r.nextGaussian() * 3);
                case 1 -> (float) ((r.nextDouble() * 2 - 1) * 0.7);
                case 2 -> (float) ((r.nextDouble() * 2 - 1) * 12);
                default -> (float) (r.nextGaussian() * 1e-3);
            };
        }
        return a;
    }

    /** The float64 formula, {@code 0.5 x (1 + tanh(u))}, absolute error about 1e-17 (cancellation for x < 0). */
    private static double geluTanhForm(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** The same function as {@code x sigmoid(2u)} in float64, relative error about 1e-16 everywhere. */
    private static double geluReference(double x) {
        return x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Test
    void geluTanhMatchesTheFloat64Formula() {
        float[] a = values(1003, 1);
        float[] out = a.clone();
        VectorOps.geluTanh(out, 0, out.length);
        for (int i = 0; i < a.length; i++) {
            double want = geluReference(a[i]);
            assertEquals(geluTanhForm(a[i]), want, 1e-15, "the two float64 forms of gelu(" + a[i] + ")");
            // a few float ulp, and the float rounding of the exponent 2u, which exp turns into a relative error of |2u| ulp
            double twoU = 2 * Math.sqrt(2 / Math.PI) * (a[i] + 0.044715 * a[i] * a[i] * a[i]);
            double tol = Math.abs(want) * 0x1p-24 * (8 + 2 * Math.abs(twoU)) + 1e-37;
            assertTrue(Math.abs(out[i] - want) <= tol,
                    "gelu(" + a[i] + ") = " + out[i] + ", float64 reference " + want);
        }
    }

    @Test
    void tanhMatchesMathTanhToAFewUlp() {
        float[] a = values(2000, 2);
        for (float x : a) {
            double want = Math.tanh(x);
            assertEquals(want, VectorOps.tanh(x), 3 * Math.ulp((float) Math.abs(want)), "tanh(" + x + ")");
        }
        assertEquals(1f, VectorOps.tanh(100f));
        assertEquals(-1f, VectorOps.tanh(-100f));
        assertEquals(0f, VectorOps.tanh(0f));
    }

    @Test
    void softCapMatchesCapTimesTanh() {
        float cap = 30f;
        float[] a = values(777, 3);
        for (int i = 0; i < a.length; i++) {
            a[i] *= 10;
        }
        float[] out = a.clone();
        SoftCapping.apply(out, 0, out.length, cap);
        for (int i = 0; i < a.length; i++) {
            double want = cap * Math.tanh(a[i] / (double) cap);
            assertEquals(want, out[i], 4 * Math.ulp((float) Math.abs(want)) + 1e-37, "softcap(" + a[i] + ")");
            assertTrue(Math.abs(out[i]) <= cap);
        }
        float[] none = a.clone();
        SoftCapping.apply(none, 0, none.length, 0f);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(none), "a cap of 0 leaves values as they are");
    }

    /** Each value alone (the tail path) has the bits it gets among others in a vector lane. */
    @Test
    void lanesAndTailGiveTheSameBits() {
        float[] a = values(257, 4);
        float[] gelu = a.clone();
        VectorOps.geluTanh(gelu, 0, gelu.length);
        float[] capped = a.clone();
        VectorOps.softCap(capped, 0, capped.length, 7.5f);
        for (int i = 0; i < a.length; i++) {
            float[] one = {a[i]};
            VectorOps.geluTanh(one, 0, 1);
            assertEquals(Float.floatToRawIntBits(gelu[i]), Float.floatToRawIntBits(one[0]), "gelu of " + a[i]);
            one[0] = a[i];
            VectorOps.softCap(one, 0, 1, 7.5f);
            assertEquals(Float.floatToRawIntBits(capped[i]), Float.floatToRawIntBits(one[0]), "softcap of " + a[i]);
        }
    }
}
