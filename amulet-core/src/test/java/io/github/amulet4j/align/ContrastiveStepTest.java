package io.github.amulet4j.align;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** LA and closed-form Amulet are one step with a coefficient: checked against a naive double computation. */
class ContrastiveStepTest {

    private static double[] naiveLogSoftmax(float[] pref, float[] base, double c) {
        double[] y = new double[pref.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < y.length; i++) {
            y[i] = pref[i] + c * ((double) pref[i] - base[i]);
            max = Math.max(max, y[i]);
        }
        double sum = 0;
        for (double v : y) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        for (int i = 0; i < y.length; i++) {
            y[i] -= lse;
        }
        return y;
    }

    private static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - lse;
        }
        return out;
    }

    @Test
    void laAndAmuletEqualTheNaiveFormulaWithTheirCoefficients() {
        Random rnd = new Random(7);
        AmuletCoefficients amulet = AmuletCoefficients.of(AmuletParameters.PAPER_DEFAULTS);
        for (double scale : new double[] {1, 10, 500}) { // 500: past the exact-shift limit
            float[] pref = new float[257];
            float[] base = new float[257];
            for (int i = 0; i < pref.length; i++) {
                pref[i] = (float) (rnd.nextGaussian() * scale);
                base[i] = (float) (pref[i] + rnd.nextGaussian() * scale / 10);
            }
            for (double rho : new double[] {0, 0.5, 2, 4.648699006951202}) {
                float[] out = new float[pref.length];
                new LinearAlignment(rho).apply(pref, 0, base, 0, out, 0, pref.length);
                double[] expected = naiveLogSoftmax(pref, base, rho);
                double[] got = logSoftmax(out);
                for (int i = 0; i < out.length; i++) {
                    assertEquals(expected[i], got[i], 1e-3 * Math.max(1, Math.abs(expected[i]) * 1e-3),
                            "rho " + rho + ", scale " + scale + ", token " + i);
                }
            }
            float[] out = new float[pref.length];
            new ClosedFormAmulet().apply(pref, 0, base, 0, out, 0, pref.length);
            double[] expected = naiveLogSoftmax(pref, base, amulet.a() - 1);
            double[] got = logSoftmax(out);
            for (int i = 0; i < out.length; i++) {
                assertEquals(expected[i], got[i], 1e-3 * Math.max(1, Math.abs(expected[i]) * 1e-3), "amulet " + i);
            }
        }
    }

    @Test
    void masksStayMaskedAndBadValuesAreNamed() {
        float[] pref = {1f, Float.NEGATIVE_INFINITY, 3f};
        float[] base = {0f, 2f, Float.NEGATIVE_INFINITY};
        float[] out = new float[3];
        new LinearAlignment(2).apply(pref, 0, base, 0, out, 0, 3);
        assertEquals(3f, out[0]); // 1 + 2 * (1 - 0)
        assertEquals(Float.NEGATIVE_INFINITY, out[1]);
        assertEquals(Float.NEGATIVE_INFINITY, out[2]);
        float[] nan = {Float.NaN, 0f, 0f};
        assertThrows(LogitsException.class, () -> new LinearAlignment(2).apply(nan, 0, base, 0, out, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> new LinearAlignment(Double.NaN));
    }
}
