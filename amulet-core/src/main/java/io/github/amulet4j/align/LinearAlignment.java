package io.github.amulet4j.align;

/**
 * Linear alignment (the paper's {@code la} baseline): {@code pref + rho * (pref - base)} on the logits.
 * A token that is {@code -inf} in either stream stays {@code -inf}.
 */
public final class LinearAlignment implements AlignmentStep {

    /** The paper's ratio. */
    public static final double DEFAULT_RHO = 2.0;

    private final double rho;
    private final float a;
    private final float b;

    public LinearAlignment(double rho) {
        if (!Double.isFinite(rho)) {
            throw new IllegalArgumentException("rho (linear alignment ratio) must be finite, got " + rho);
        }
        this.rho = rho;
        this.a = (float) (1.0 + rho);
        this.b = (float) -rho;
    }

    public LinearAlignment() {
        this(DEFAULT_RHO);
    }

    public double rho() {
        return rho;
    }

    @Override
    public void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        StepChecks.checkRange(PREFERENCE_STREAM, pref, prefOff, vocab);
        StepChecks.checkRange(BASE_STREAM, base, baseOff, vocab);
        StepChecks.checkRange("output", out, outOff, vocab);
        boolean any = false;
        for (int i = 0; i < vocab; i++) {
            float p = pref[prefOff + i];
            float r = base[baseOff + i];
            StepChecks.checkValue(PREFERENCE_STREAM, p, i);
            StepChecks.checkValue(BASE_STREAM, r, i);
            if (p == Float.NEGATIVE_INFINITY || r == Float.NEGATIVE_INFINITY) {
                out[outOff + i] = Float.NEGATIVE_INFINITY;
            } else {
                double y = (double) a * p + (double) b * r;
                out[outOff + i] = (float) Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, y));
                any = true;
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
        return "LinearAlignment[rho=" + rho + "]";
    }
}
