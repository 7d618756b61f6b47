package io.github.amulet4j.align;

/**
 * Linear alignment (the paper's {@code la} baseline): {@code pref + rho * (pref - base)} on the logits, the
 * {@link ContrastiveStep} with the coefficient {@code rho} ({@link ClosedFormAmulet} is the same step with the
 * coefficient of the Amulet recursion). A token that is {@code -inf} in either stream stays {@code -inf}.
 */
public final class LinearAlignment implements AlignmentStep {

    /** The paper's ratio. */
    public static final double DEFAULT_RHO = 2.0;

    private final double rho;
    private final ContrastiveStep step;

    public LinearAlignment(double rho) {
        if (!Double.isFinite(rho)) {
            throw new IllegalArgumentException("rho (linear alignment ratio) must be finite, got " + rho);
        }
        this.rho = rho;
        this.step = new ContrastiveStep(rho);
    }

    public LinearAlignment() {
        this(DEFAULT_RHO);
    }

    public double rho() {
        return rho;
    }

    @Override
    public void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        step.apply(pref, prefOff, base, baseOff, out, outOff, vocab);
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
