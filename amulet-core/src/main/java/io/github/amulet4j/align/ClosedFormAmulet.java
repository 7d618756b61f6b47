package io.github.amulet4j.align;

import java.util.Objects;

/**
 * The Amulet step in closed form (ALGORITHM.md section 3), the default: {@code a_T * pref + b_T * base}
 * in one fused pass over the raw logits. Because {@code log_softmax} only shifts a row by a constant, the
 * raw logits give the same result as the log-probabilities up to a constant, so no exp or log is needed;
 * greedy decoding is then a plain argmax. A token that is {@code -inf} in either stream is written as
 * {@code -inf} (never computing {@code -inf - -inf}).
 */
public final class ClosedFormAmulet implements AlignmentStep {

    private final AmuletParameters params;
    private final float a;
    private final float b;

    public ClosedFormAmulet(AmuletParameters params) {
        this.params = Objects.requireNonNull(params, "params");
        AmuletCoefficients c = AmuletCoefficients.of(params);
        this.a = (float) c.a();
        this.b = (float) c.b();
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
        final float ca = a;
        final float cb = b;
        boolean any = false;
        for (int i = 0; i < vocab; i++) {
            float p = pref[prefOff + i];
            float r = base[baseOff + i];
            float y = ca * p + cb * r;
            // Finite inputs give a finite y; anything else (mask, NaN, +inf) takes the slow branch.
            if (y - y == 0f) {
                out[outOff + i] = y;
                any = true;
            } else {
                StepChecks.checkValue(PREFERENCE_STREAM, p, i);
                StepChecks.checkValue(BASE_STREAM, r, i);
                if (p == Float.NEGATIVE_INFINITY || r == Float.NEGATIVE_INFINITY) {
                    out[outOff + i] = Float.NEGATIVE_INFINITY;
                } else {
                    // finite inputs whose weighted sum overflowed float
                    double yd = (double) ca * p + (double) cb * r;
                    out[outOff + i] = (float) Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, yd));
                    any = true;
                }
            }
        }
        if (!any) {
            throw StepChecks.allMasked("base and preference");
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
