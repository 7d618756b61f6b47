package io.github.amulet4j.align;

/** Which of the two exact forms computes the Amulet step. */
public enum AmuletForm {
    /** One fused pass, O(V) (the default). */
    CLOSED_FORM,
    /** The paper's T iterations, O(T x V). */
    ITERATIVE;

    /** The step of this form. */
    public AlignmentStep step(AmuletParameters params) {
        return this == CLOSED_FORM ? new ClosedFormAmulet(params) : new IterativeAmulet(params);
    }
}
