package io.github.amulet4j.align;

import java.util.Objects;

/**
 * The Amulet step in closed form (ALGORITHM.md section 3), the default: {@code a_T * pref + b_T * base},
 * computed as {@code pref + gamma * (pref - base)} with {@code gamma = a_T - 1} (the same value, since
 * {@code a_T + b_T = 1}, with less cancellation in float) in one fused pass over the raw logits. Because {@code log_softmax} only shifts a row by a constant, the
 * raw logits give the same result as the log-probabilities up to a constant, so no exp or log is needed;
 * greedy decoding is then a plain argmax. A token that is {@code -inf} in either stream is written as
 * {@code -inf} (never computing {@code -inf - -inf}).
 */
public final class ClosedFormAmulet implements AlignmentStep {

    private final AmuletParameters params;
    private final float a;
    private final float b;
    private final float gamma;
    private final double gammaExact;

    public ClosedFormAmulet(AmuletParameters params) {
        this.params = Objects.requireNonNull(params, "params");
        AmuletCoefficients c = AmuletCoefficients.of(params);
        this.a = (float) c.a();
        this.b = (float) c.b();
        this.gamma = (float) c.gamma();
        this.gammaExact = c.gamma();
    }

    /** With the paper's defaults. */
    public ClosedFormAmulet() {
        this(AmuletParameters.PAPER_DEFAULTS);
    }

    public AmuletParameters parameters() {
        return params;
    }

    @Override
    public void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        StepChecks.checkRange(PREFERENCE_STREAM, pref, prefOff, vocab);
        StepChecks.checkRange(BASE_STREAM, base, baseOff, vocab);
        StepChecks.checkRange("output", out, outOff, vocab);
        final float g = gamma;
        boolean any = false;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float p = pref[prefOff + i];
            float r = base[baseOff + i];
            float y = p + g * (p - r);
            // Finite inputs give a finite y; anything else (mask, NaN, +inf) takes the slow branch.
            if (y - y == 0f) {
                out[outOff + i] = y;
                max = Math.max(max, y);
                any = true;
            } else {
                StepChecks.checkValue(PREFERENCE_STREAM, p, i);
                StepChecks.checkValue(BASE_STREAM, r, i);
                if (p == Float.NEGATIVE_INFINITY || r == Float.NEGATIVE_INFINITY) {
                    out[outOff + i] = Float.NEGATIVE_INFINITY;
                } else {
                    // finite inputs whose weighted sum overflowed float
                    double yd = p + (double) g * ((double) p - r);
                    out[outOff + i] = (float) Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, yd));
                    max = Float.POSITIVE_INFINITY; // forces the exact second pass
                    any = true;
                }
            }
        }
        if (!any) {
            throw StepChecks.allMasked("base and preference");
        }
        if (Math.abs(max) > PRECISE_LIMIT) {
            shiftExactly(pref, prefOff, base, baseOff, out, outOff, vocab);
        }
    }

    /**
     * Above this magnitude a float holds values only to about 3e-5, so the top of the distribution
     * would lose precision; then the row is recomputed in double and shifted so that its maximum is 0.
     * Happens only with large coefficients (alpha well above lambda) or logits far from zero.
     */
    private static final float PRECISE_LIMIT = 256f;

    private void shiftExactly(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff,
            int vocab) {
        final double g = gammaExact;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (out[outOff + i] != Float.NEGATIVE_INFINITY) {
                double p = pref[prefOff + i];
                max = Math.max(max, p + g * (p - base[baseOff + i]));
            }
        }
        for (int i = 0; i < vocab; i++) {
            if (out[outOff + i] != Float.NEGATIVE_INFINITY) {
                double p = pref[prefOff + i];
                out[outOff + i] = (float) Math.max(-Float.MAX_VALUE, p + g * (p - base[baseOff + i]) - max);
            }
        }
    }

    @Override
    public boolean readsPreference() {
        return true;
    }

    @Override
    public boolean readsBase() {
        return true;
    }

    @Override
    public String toString() {
        return "ClosedFormAmulet[" + params + ", a_T=" + a + ", b_T=" + b + "]";
    }
}
