package io.github.amulet4j.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AmuletStepTest {

    static final float[] PREF6 = {2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 3.0f};
    static final float[] BASE6 = {2.5f, 0.5f, 0.5f, -2.0f, 1.0f, 1.0f};
    static final float[] PREF4 = {2.0f, 1.9f, 0.0f, -1.0f};
    static final float[] BASE4 = {2.5f, 0.5f, 0.0f, -1.0f};

    /** log_softmax in double, masked entries stay -inf. */
    static double[] logSoftmax(float[] y) {
        double m = Double.NEGATIVE_INFINITY;
        for (float v : y) {
            m = Math.max(m, v);
        }
        double s = 0;
        for (float v : y) {
            if (v != Float.NEGATIVE_INFINITY) {
                s += Math.exp(v - m);
            }
        }
        double lse = m + Math.log(s);
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = y[i] == Float.NEGATIVE_INFINITY ? Double.NEGATIVE_INFINITY : y[i] - lse;
        }
        return out;
    }

    static AlignmentStep step(AmuletForm form, int t) {
        return form.step(AmuletParameters.builder().iterations(t).build());
    }

    static void assertVector(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + " at " + i);
        }
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[b]) {
                b = i;
            }
        }
        return b;
    }

    @ParameterizedTest
    @EnumSource(AmuletForm.class)
    void algorithmTestVectors(AmuletForm form) {
        assertVector(new double[] {-3.465839, -3.513458, -4.489648, -5.037267, -5.942029, -0.084886},
                logSoftmax(step(form, 1).apply(PREF6, BASE6)), 1e-5, form + " T=1");
        assertVector(new double[] {-4.691780, -4.228366, -5.460073, -5.496658, -7.423488, -0.033244},
                logSoftmax(step(form, 2).apply(PREF6, BASE6)), 1e-5, form + " T=2");
        assertVector(new double[] {-12.622060, -8.973361, -11.797711, -8.649012, -16.946410, -0.000313},
                logSoftmax(step(form, 60).apply(PREF6, BASE6)), 1e-5, form + " T=60");
        assertVector(new double[] {-1.920499, -0.210975, -3.444309, -4.444309},
                logSoftmax(step(form, 1).apply(PREF4, BASE4)), 1e-5, form + " T=1 (4)");
        float[] y = step(form, 60).apply(PREF4, BASE4);
        assertVector(new double[] {-8.732994, -0.000466, -8.408645, -9.408645}, logSoftmax(y), 1e-5, form + " T=60 (4)");
        assertEquals(0, argmax(PREF4), "the preference stream alone picks token 0");
        assertEquals(1, argmax(y), "Amulet picks token 1");
    }

    @Test
    void coefficientsOfThePaperDefaults() {
        AmuletCoefficients c = AmuletCoefficients.of(AmuletParameters.PAPER_DEFAULTS);
        assertEquals(5.648699006951202, c.a(), 1e-12);
        assertEquals(-4.648699006951201, c.b(), 1e-12);
        assertEquals(4.648699006951202, c.gamma(), 1e-12);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 50; i++) {
            AmuletParameters p = AmuletParameters.builder().iterations(1 + r.nextInt(300)).eta(0.01 + 20 * r.nextDouble())
                    .alpha(5 * r.nextDouble()).lambda(5 * r.nextDouble()).build();
            AmuletCoefficients k = AmuletCoefficients.of(p);
            assertEquals(1.0, k.a() + k.b(), 1e-9 * Math.max(1, Math.abs(k.a())), "a_T + b_T = 1 for " + p);
        }
        AmuletCoefficients zeroAlpha = AmuletCoefficients.of(AmuletParameters.builder().alpha(0).build());
        assertEquals(1.0, zeroAlpha.a(), 1e-12, "no reward: the policy stays p");
    }

    @Test
    void closedFormEqualsIterativeOnRandomLogitsAndSettings() {
        SplittableRandom r = new SplittableRandom(2025);
        int[] ts = {1, 2, 3, 10, 60, 200};
        for (int trial = 0; trial < 120; trial++) {
            int t = ts[trial % ts.length];
            // alpha up to 4 and lambda down to 0.05 include settings where gamma grows to 1e15 (algorithm.md)
            double lambda = 0.05 + 4 * r.nextDouble();
            AmuletParameters p = trial % 4 == 0 ? AmuletParameters.builder().iterations(t).build()
                    : AmuletParameters.builder().iterations(t).eta(0.1 + 30 * r.nextDouble())
                            .alpha(4 * r.nextDouble()).lambda(lambda).build();
            int vocab = 2 + r.nextInt(300);
            float scale = (float) (0.5 + 8 * r.nextDouble());
            float[] pref = new float[vocab];
            float[] base = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                pref[i] = (float) (scale * r.nextGaussian() + 10 * (trial % 3));
                base[i] = (float) (scale * r.nextGaussian() - 5 * (trial % 2));
                if (r.nextInt(10) == 0) {
                    base[i] = pref[i]; // some ties between streams
                }
            }
            float[] closed = new ClosedFormAmulet(p).apply(pref, base);
            float[] iter = new IterativeAmulet(p).apply(pref, base);
            assertLogProbs(logSoftmax(iter), logSoftmax(closed), "trial " + trial + " " + p);
            assertEquals(argmax(iter), argmax(closed), "greedy token, trial " + trial);
        }
    }

    /**
     * Normalised log-probabilities within 1e-4 wherever the probability is above e^-30; below that (no
     * mass in float) a float result can only be compared relatively, to 1e-5.
     */
    static void assertLogProbs(double[] expected, double[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = expected[i] > -30 ? 1e-4 : 1e-5 * Math.abs(expected[i]);
            assertEquals(expected[i], actual[i], tol, what + " at " + i);
        }
    }

    @Test
    void closedFormEqualsIterativeWhenCoefficientsExplode() {
        SplittableRandom r = new SplittableRandom(7);
        for (double[] s : new double[][] {{60, 10, 4, 1}, {200, 10, 2, 0.2}, {60, 0.1, 3, 1}}) {
            AmuletParameters p = AmuletParameters.builder().iterations((int) s[0]).eta(s[1]).alpha(s[2]).lambda(s[3]).build();
            float[] pref = new float[50];
            float[] base = new float[50];
            for (int i = 0; i < 50; i++) {
                pref[i] = (float) r.nextGaussian();
                base[i] = (float) r.nextGaussian();
            }
            float[] closed = new ClosedFormAmulet(p).apply(pref, base);
            float[] iter = new IterativeAmulet(p).apply(pref, base);
            assertLogProbs(logSoftmax(iter), logSoftmax(closed), p.toString());
            assertEquals(argmax(iter), argmax(closed), p.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(AmuletForm.class)
    void masksInEitherStreamSurvive(AmuletForm form) {
        float ninf = Float.NEGATIVE_INFINITY;
        float[] pref = {1f, ninf, 0.5f, ninf, 2f, -1f};
        float[] base = {0.5f, 0.2f, ninf, ninf, 1f, 3f};
        for (AlignmentStep s : new AlignmentStep[] {step(form, 60), step(form, 1), new LinearAlignment()}) {
            float[] y = s.apply(pref, base);
            for (int i : new int[] {1, 2, 3}) {
                assertEquals(ninf, y[i], s + " token " + i);
            }
            for (int i : new int[] {0, 4, 5}) {
                assertTrue(Float.isFinite(y[i]), s + " token " + i + " = " + y[i]);
            }
        }
        // masked tokens leave the others as if they were absent
        float[] y = step(form, 60).apply(pref, base);
        float[] y3 = step(form, 60).apply(new float[] {1f, 2f, -1f}, new float[] {0.5f, 1f, 3f});
        double[] full = logSoftmax(y);
        assertVector(logSoftmax(y3), new double[] {full[0], full[4], full[5]}, 1e-4, form + " restricted support");
    }

    @ParameterizedTest
    @EnumSource(AmuletForm.class)
    void nanAndPositiveInfinityNameTheStream(AmuletForm form) {
        AlignmentStep s = step(form, 60);
        LogitsException e = assertThrows(LogitsException.class,
                () -> s.apply(new float[] {1f, Float.NaN, 0f}, new float[] {0f, 0f, 0f}));
        assertEquals("preference", e.stream());
        assertEquals(1, e.token());
        assertTrue(e.getMessage().contains("preference stream") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(LogitsException.class,
                () -> s.apply(new float[] {1f, 2f, 0f}, new float[] {0f, 0f, Float.POSITIVE_INFINITY}));
        assertEquals("base", e.stream());
        assertTrue(e.getMessage().contains("+inf"), e.getMessage());
        LogitsException ctx = e.withContext(7, 3);
        assertTrue(ctx.getMessage().contains("base stream logits at step 7 of request 3"), ctx.getMessage());
        float ninf = Float.NEGATIVE_INFINITY;
        e = assertThrows(LogitsException.class, () -> s.apply(new float[] {ninf, 1f}, new float[] {0f, ninf}));
        assertTrue(e.getMessage().contains("every token is masked"), e.getMessage());
        e = assertThrows(LogitsException.class, () -> PassThrough.BASE.apply(null, new float[] {Float.NaN}));
        assertEquals("base", e.stream());
    }

    @Test
    void mismatchedVocabularyIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ClosedFormAmulet().apply(new float[5], new float[6]));
        assertTrue(e.getMessage().contains("vocabulary sizes differ") && e.getMessage().contains("5")
                && e.getMessage().contains("6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ClosedFormAmulet().apply(new float[5], 2, new float[5], 0, new float[5], 0, 5));
        assertTrue(e.getMessage().contains("preference"), e.getMessage());
    }

    @Test
    void invalidHyperparametersAreRejected() {
        assertMessage("iterations (T) must be >= 1", () -> AmuletParameters.builder().iterations(0).build());
        assertMessage("eta (learning rate) must be > 0", () -> AmuletParameters.builder().eta(0).build());
        assertMessage("alpha (reward scale) must be >= 0", () -> AmuletParameters.builder().alpha(-1).build());
        assertMessage("lambda (regulariser) must be >= 0", () -> AmuletParameters.builder().lambda(-0.1).build());
        assertMessage("eta must be a finite number", () -> AmuletParameters.builder().eta(Double.NaN).build());
        assertMessage("alpha must be a finite number",
                () -> AmuletParameters.builder().alpha(Double.POSITIVE_INFINITY).build());
        assertMessage("lambda must be a finite number", () -> AmuletParameters.builder().lambda(Double.NaN).build());
        assertMessage("rho", () -> new LinearAlignment(Double.NaN));
        AmuletParameters d = AmuletParameters.PAPER_DEFAULTS;
        assertEquals(60, d.iterations());
        assertEquals(10.0, d.eta());
        assertEquals(2.0, d.alpha());
        assertEquals(2.0, d.lambda());
        assertEquals(d, d.toBuilder().build());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable ex) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void linearAlignmentAndPassThroughFollowTheirFormulas() {
        float[] y = new LinearAlignment(2.0).apply(PREF6, BASE6);
        for (int i = 0; i < 6; i++) {
            assertEquals(PREF6[i] + 2.0 * (PREF6[i] - BASE6[i]), y[i], 1e-5);
        }
        float[] out = new float[6];
        PassThrough.PREFERENCE.apply(PREF6, 0, null, 0, out, 0, 6);
        assertEquals(java.util.Arrays.toString(PREF6), java.util.Arrays.toString(out));
        PassThrough.BASE.apply(null, 0, BASE6, 0, out, 0, 6);
        assertEquals(java.util.Arrays.toString(BASE6), java.util.Arrays.toString(out));
    }

    @Test
    void closedFormWithPaperDefaultsIsLinearAlignmentWithGamma() {
        double gamma = AmuletCoefficients.of(AmuletParameters.PAPER_DEFAULTS).gamma();
        double[] amulet = logSoftmax(new ClosedFormAmulet().apply(PREF6, BASE6));
        double[] la = logSoftmax(new LinearAlignment(gamma).apply(PREF6, BASE6));
        assertVector(la, amulet, 1e-5, "amulet == la(gamma)");
    }

    @Test
    void methodNamesAndStreams() {
        assertEquals(AlignmentMethod.AMULET, AlignmentMethod.fromName("Amulet"));
        assertEquals(AlignmentMethod.LA, AlignmentMethod.fromName(" la "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlignmentMethod.fromName("greedy"));
        assertTrue(e.getMessage().contains("base, pref, la, amulet, beam"), e.getMessage());
        assertTrue(AlignmentMethod.BASE.needsBase() && !AlignmentMethod.BASE.needsPreference());
        assertTrue(!AlignmentMethod.PREF.needsBase() && AlignmentMethod.PREF.needsPreference());
        assertTrue(!AlignmentMethod.BEAM.needsBase() && AlignmentMethod.BEAM.needsPreference());
        assertTrue(AlignmentMethod.LA.needsBase() && AlignmentMethod.LA.needsPreference());
        assertTrue(AlignmentMethod.AMULET.needsBase() && AlignmentMethod.AMULET.needsPreference());
        assertTrue(AlignmentMethod.AMULET.step(AmuletParameters.PAPER_DEFAULTS, AmuletForm.CLOSED_FORM, 2) instanceof ClosedFormAmulet);
        assertTrue(AlignmentMethod.AMULET.step(AmuletParameters.PAPER_DEFAULTS, AmuletForm.ITERATIVE, 2) instanceof IterativeAmulet);
    }
}
