package io.github.amulet4j.transformer;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float activations and the softmax's exponentials (GELU-tanh, SiLU, soft-capping, {@code expShifted}) against
 * float64 references computed here with {@link Math#tanh} and {@link Math#exp}.
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

    @Test
    void siluMatchesTheFloat64Formula() {
        float[] a = values(1001, 5);
        float[] out = a.clone();
        VectorOps.silu(out, 0, out.length);
        for (int i = 0; i < a.length; i++) {
            double want = a[i] / (1 + Math.exp(-a[i]));
            // a few float ulp, and the rounding of -x that exp turns into a relative error of |x| ulp
            double tol = Math.abs(want) * 0x1p-24 * (8 + Math.abs(a[i])) + 1e-37;
            assertTrue(Math.abs(out[i] - want) <= tol, "silu(" + a[i] + ") = " + out[i] + ", float64 reference " + want);
        }
    }

    @Test
    void expShiftedMatchesMathExpAndReturnsTheSum() {
        for (int n : new int[] {1, 3, 4, 7, 64, 301}) {
            float[] a = values(n + 5, 6 + n);
            float shift = 2.5f;
            float[] out = a.clone();
            float sum = VectorOps.expShifted(out, 2, n, shift);
            double want = 0;
            for (int i = 0; i < a.length; i++) {
                if (i < 2 || i >= n + 2) {
                    assertEquals(a[i], out[i], "outside the range nothing changes");
                    continue;
                }
                double e = Math.exp((double) (a[i] - shift));
                want += e;
                assertEquals(e, out[i], e * 0x1p-24 * (4 + Math.abs(a[i] - shift)) + 1e-37, "exp(" + a[i] + " - shift)");
            }
            assertEquals(want, sum, want * 1e-6, "sum of " + n);
        }
    }
}
