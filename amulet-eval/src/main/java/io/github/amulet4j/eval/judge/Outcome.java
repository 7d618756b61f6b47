package io.github.amulet4j.eval.judge;

/**
 * What the two orders of a comparison say about the candidate: both prefer it (win), both prefer the baseline
 * (loss), they disagree or either says tie (tie, as MT-Bench counts an inconsistent pair), either has no verdict
 * (unparsable, left out of the rates), or an order has not been judged yet (pending).
 */
public enum Outcome {
    WIN, TIE, LOSS, UNPARSABLE, PENDING;

    /**
     * The outcome of a comparison from its two judgements.
     *
     * @param candidate      the candidate's method
     * @param candidateFirst the judgement with the candidate shown first, or {@code null} when not judged yet
     * @param baselineFirst  the judgement with the baseline shown first, or {@code null} when not judged yet
     */
    public static Outcome of(String candidate, Judgement candidateFirst, Judgement baselineFirst) {
        if (candidateFirst == null || baselineFirst == null) {
            return PENDING;
        }
        if (candidateFirst.unparsable() || baselineFirst.unparsable()) {
            return UNPARSABLE;
        }
        String w1 = candidateFirst.winner();
        String w2 = baselineFirst.winner();
        if (!w1.equals(w2) || w1.equals("tie")) {
            return TIE;
        }
        return w1.equals(candidate) ? WIN : LOSS;
    }
}
