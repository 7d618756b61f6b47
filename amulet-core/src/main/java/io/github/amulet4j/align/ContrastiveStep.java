package io.github.amulet4j.align;

/**
 * The one computation behind both contrastive methods: {@code out = pref + c * (pref - base)} over a row of
 * logits, for a coefficient {@code c} that each method chooses its own way (src-docs/algorithm.md):
 * {@link LinearAlignment} takes {@code c = rho}, {@link ClosedFormAmulet} takes {@code c = gamma = a_T - 1} from
 * the Amulet recursion. One fused pass over the raw logits (a row shift by a constant leaves the distribution
 * unchanged, so no {@code log_softmax} is needed); a token that is {@code -inf} in either stream is written as
 * {@code -inf} (never computing {@code -inf - -inf}); NaN and {@code +inf} are refused naming the stream and token;
 * finite inputs whose combination overflows float are clamped; when the row's largest value exceeds
 * {@value #PRECISE_LIMIT} in magnitude (large coefficients, logits far from zero) the row is recomputed in double
 * and shifted so that its maximum is 0, keeping the top of the distribution precise.
 */
final class ContrastiveStep {

    /**
     * Above this magnitude a float holds values only to about 3e-5, so the top of the distribution would lose
     * precision.
     */
    static final float PRECISE_LIMIT = 256f;

    private final float c;
    private final double cExact;

    ContrastiveStep(double coefficient) {
        if (!Double.isFinite(coefficient)) {
            throw new IllegalArgumentException("contrastive coefficient must be finite, got " + coefficient);
        }
        this.c = (float) coefficient;
        this.cExact = coefficient;
    }

    /** The coefficient {@code c}. */
    double coefficient() {
        return cExact;
    }

    void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        StepChecks.checkRange(AlignmentStep.PREFERENCE_STREAM, pref, prefOff, vocab);
        StepChecks.checkRange(AlignmentStep.BASE_STREAM, base, baseOff, vocab);
        StepChecks.checkRange("output", out, outOff, vocab);
        final float g = c;
        boolean any = false;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float p = pref[prefOff + i];
            float r = base[baseOff + i];
            float y = p + g * (p - r);
            // Finite inputs give a finite y; anything else (mask, NaN, +inf, overflow) takes the slow branch.
            if (y - y == 0f) {
                out[outOff + i] = y;
                max = Math.max(max, y);
                any = true;
            } else {
                StepChecks.checkValue(AlignmentStep.PREFERENCE_STREAM, p, i);
                StepChecks.checkValue(AlignmentStep.BASE_STREAM, r, i);
                if (p == Float.NEGATIVE_INFINITY || r == Float.NEGATIVE_INFINITY) {
                    out[outOff + i] = Float.NEGATIVE_INFINITY;
                } else {
                    // finite inputs whose weighted sum overflowed float
                    double yd = p + cExact * ((double) p - r);
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

    private void shiftExactly(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff,
            int vocab) {
        final double g = cExact;
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
}
