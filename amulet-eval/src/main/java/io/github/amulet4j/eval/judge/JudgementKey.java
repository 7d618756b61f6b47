package io.github.amulet4j.eval.judge;

import java.util.Objects;

/**
 * What identifies one judgement (one prompt to the judge): the question, the preference and which method's
 * answer is shown first ({@code A}) and second ({@code B}). A candidate/baseline pair needs two: the candidate
 * first, and the baseline first. Swapping candidate and baseline asks nothing new.
 */
public record JudgementKey(int index, String preference, String methodA, String methodB) {

    public JudgementKey {
        Objects.requireNonNull(preference, "preference");
        Objects.requireNonNull(methodA, "methodA");
        Objects.requireNonNull(methodB, "methodB");
    }

    @Override
    public String toString() {
        return "index " + index + ", preference " + preference + ", A " + methodA + ", B " + methodB;
    }
}
