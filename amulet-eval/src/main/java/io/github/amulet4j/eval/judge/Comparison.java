package io.github.amulet4j.eval.judge;

import java.util.List;
import java.util.Objects;

/**
 * A candidate's answer and a baseline's answer to the same question under the same preference, to be judged in
 * both orders.
 */
public record Comparison(Answer candidate, Answer baseline) {

    public Comparison {
        Objects.requireNonNull(candidate, "candidate");
        Objects.requireNonNull(baseline, "baseline");
        if (candidate.index() != baseline.index() || !candidate.preference().equals(baseline.preference())) {
            throw new IllegalArgumentException("a comparison needs two answers to the same question and preference: "
                    + candidate.source() + " vs " + baseline.source());
        }
    }

    public int index() {
        return candidate.index();
    }

    public String preference() {
        return candidate.preference();
    }

    /** The judgement with the candidate shown first. */
    public JudgementKey candidateFirst() {
        return new JudgementKey(index(), preference(), candidate.method(), baseline.method());
    }

    /** The judgement with the baseline shown first. */
    public JudgementKey baselineFirst() {
        return new JudgementKey(index(), preference(), baseline.method(), candidate.method());
    }

    /** Both orders. */
    public List<JudgementKey> orders() {
        return List.of(candidateFirst(), baselineFirst());
    }
}
