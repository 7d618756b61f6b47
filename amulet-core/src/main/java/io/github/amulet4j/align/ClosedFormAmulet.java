package io.github.amulet4j.align;

import java.util.Objects;

/**
 * The Amulet step in closed form (ALGORITHM.md section 3), the default: {@code a_T * pref + b_T * base},
 * computed as {@code pref + gamma * (pref - base)} with {@code gamma = a_T - 1} (the same value, since
 * {@code a_T + b_T = 1}, with less cancellation in float). It is the {@link ContrastiveStep} with the coefficient
 * the Amulet recursion gives ({@link AmuletCoefficients}); {@link LinearAlignment} is the same step with the
 * coefficient {@code rho}. Raw logits give the same result as log-probabilities up to a constant, so no exp or log
 * is needed; greedy decoding is then a plain argmax.
 */
public final class ClosedFormAmulet implements AlignmentStep {

    private final AmuletParameters params;
    private final float a;
    private final float b;
    private final ContrastiveStep step;

    public ClosedFormAmulet(AmuletParameters params) {
        this.params = Objects.requireNonNull(params, "params");
        AmuletCoefficients c = AmuletCoefficients.of(params);
        this.a = (float) c.a();
        this.b = (float) c.b();
        this.step = new ContrastiveStep(c.gamma());
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
        return "ClosedFormAmulet[" + params + ", a_T=" + a + ", b_T=" + b + "]";
    }
}
