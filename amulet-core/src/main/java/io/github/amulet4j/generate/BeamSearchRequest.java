package io.github.amulet4j.generate;

import io.github.amulet4j.align.LogitsException;
import io.github.amulet4j.align.PassThrough;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.decode.DecodingChain;
import io.github.amulet4j.decode.LogitsMath;
import io.github.amulet4j.decode.SamplerChain;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Beam search over the preference stream (the paper's {@code beam} method), with Hugging Face's scoring:
 * a finished hypothesis scores {@code sum(log p) / length^lengthPenalty}, where length counts the
 * generated tokens including the end-of-sequence token. Each step scores every live beam's next tokens,
 * considers the best {@code 2 * numBeams} continuations, moves end-of-sequence ones (ranked within the
 * first {@code numBeams}) to the finished list and keeps the best {@code numBeams} others as the new
 * beams (their caches copied or reordered with {@link DecodingSession#select}). The search ends at
 * {@code maxNewTokens} (live beams become hypotheses), when no beam is left, or earlier by the configured
 * {@link EarlyStopping} rule (Hugging Face's {@code early_stopping}: {@code true}, {@code false} (default),
 * {@code "never"}).
 *
 * <p>Each beam has its own token history and {@link DecodingChain} copy: the before-step processors run on
 * the beam's preference row before its log-softmax (the beam scores add those log-probabilities); the
 * after-step processors and, when sampling, the warpers run on the beam's row of beam score plus
 * log-probability and choose the candidates.
 *
 * <p>With sampling decoding (the paper ran beam search with sampling), the {@code 2 * numBeams}
 * continuations are drawn without replacement from the softmax of the beam scores after temperature,
 * top-k and top-p (per beam), seeded per request; they are then ranked and accumulated by their true
 * log-probabilities. Hugging Face accumulates the warped scores instead, which makes the same choices:
 * the temperature divides every score alike and the filters only remove tokens.
 */
final class BeamSearchRequest extends RequestState {

    /** A live beam: its text, score, session row, preference-stream history and decoding chain. */
    private record Beam(TextTracker text, double sumLogProb, int row, StreamHistory history, DecodingChain chain) {
    }

    private record Hypothesis(int[] ids, String text, double score, FinishReason reason) {
    }

    private final TextTracker prototype;
    private final int[] prompt;
    private final DecodingChain chain;
    private final SplittableRandom rng;
    private final float[] scratch;
    private final int numBeams;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private List<Beam> beams = new ArrayList<>();
    private final List<Hypothesis> finished = new ArrayList<>();

    BeamSearchRequest(int index, GenerationConfig config, Set<Integer> eos, TokenListener listener,
            List<int[]> streamPrompts, TextTracker text, float[] scratch) {
        super(index, config, eos, listener, 0, streamPrompts.get(0).length);
        this.prototype = text;
        this.prompt = streamPrompts.get(0);
        this.scratch = scratch;
        this.numBeams = config.numBeams();
        this.lengthPenalty = config.lengthPenalty();
        this.earlyStopping = config.earlyStopping();
        this.chain = config.decodingChain();
        this.rng = SamplerChain.randomFor(config.decoding());
    }

    private record Candidate(int beam, int token, double sum) {
    }

    @Override
    void advance(Logits logits, DecodingSession session, int stepIndex, int vocab, int maxPositions,
            IntList sources, IntList tokens) {
        if (beams.isEmpty()) { // first step: the single prompt row
            beams.add(new Beam(prototype, 0.0, rows[0], new StreamHistory(prompt), chain));
        }
        int width = 2 * numBeams;
        List<Candidate> candidates = config.decoding().isGreedy()
                ? bestContinuations(logits, stepIndex, vocab, width)
                : sampledContinuations(logits, stepIndex, vocab, width);
        candidates.sort(Comparator.comparingDouble((Candidate c) -> -c.sum())
                .thenComparingInt(Candidate::beam).thenComparingInt(Candidate::token));
        int newLength = stepIndex + 1;
        List<Beam> next = new ArrayList<>();
        for (int rank = 0; rank < candidates.size() && rank < width && next.size() < numBeams; rank++) {
            Candidate c = candidates.get(rank);
            Beam parent = beams.get(c.beam());
            if (eos.contains(c.token())) {
                if (rank < numBeams) {
                    addHypothesis(parent.text().ids(), parent.text().text(), c.sum(), newLength, FinishReason.EOS);
                }
                continue;
            }
            TextTracker t = parent.text().copy();
            t.append(c.token());
            if (t.stopped()) {
                addHypothesis(t.ids(), t.text(), c.sum(), newLength, FinishReason.STOP_STRING);
            } else if (newLength >= config.maxNewTokens()) {
                addHypothesis(t.ids(), t.text(), c.sum(), newLength, FinishReason.MAX_NEW_TOKENS);
            } else if (session.length(parent.row()) + 1 > maxPositions) {
                addHypothesis(t.ids(), t.text(), c.sum(), newLength, FinishReason.MAX_POSITIONS);
            } else {
                StreamHistory h = parent.history().copy();
                h.append(c.token());
                DecodingChain ch = parent.chain().copy();
                ch.accept(c.token());
                next.add(new Beam(t, c.sum(), parent.row(), h, ch));
            }
        }
        if (next.isEmpty() || done(next, newLength)) {
            finishSearch();
            return;
        }
        List<Beam> placed = new ArrayList<>(next.size());
        int[] newRows = new int[next.size()];
        for (int i = 0; i < next.size(); i++) {
            Beam b = next.get(i);
            newRows[i] = sources.size();
            sources.add(b.row());
            int[] ids = b.text().ids();
            tokens.add(ids[ids.length - 1]);
            placed.add(new Beam(b.text(), b.sumLogProb(), newRows[i], b.history(), b.chain()));
        }
        rows = newRows;
        beams = placed;
    }

    /**
     * The {@code width} most likely continuations of every beam (by the beam score after the after-step
     * processors when there are any; scored by the log-probabilities).
     */
    private List<Candidate> bestContinuations(Logits logits, int stepIndex, int vocab, int width) {
        List<Candidate> candidates = new ArrayList<>();
        float[] ranked = null;
        for (int b = 0; b < beams.size(); b++) {
            Beam beam = beams.get(b);
            double lse = logProbRow(logits, beam, stepIndex, vocab);
            float[] order = scratch;
            if (beam.chain().hasAfterStep()) {
                ranked = ranked == null ? new float[vocab] : ranked;
                for (int t = 0; t < vocab; t++) {
                    ranked[t] = (float) (beam.sumLogProb() + (scratch[t] - lse));
                }
                beam.chain().afterStep(beam.history(), ranked, 0, vocab);
                order = ranked;
            }
            for (int t : topIndices(order, vocab, width)) {
                candidates.add(new Candidate(b, t, beam.sumLogProb() + (scratch[t] - lse)));
            }
        }
        return candidates;
    }

    /**
     * {@code width} continuations drawn without replacement from the softmax of the warped beam scores
     * (beam log-probability + token log-probability, through temperature, top-k and top-p per beam), with
     * the Gumbel-top-k trick and the request's random generator. Their true scores rank them afterwards.
     */
    private List<Candidate> sampledContinuations(Logits logits, int stepIndex, int vocab, int width) {
        int cap = Math.min(width, beams.size() * vocab);
        double[] keys = new double[cap];
        int[] beamOf = new int[cap];
        int[] tokenOf = new int[cap];
        double[] sums = new double[cap];
        int size = 0;
        for (int b = 0; b < beams.size(); b++) {
            Beam beam = beams.get(b);
            double lse = logProbRow(logits, beam, stepIndex, vocab);
            float[] logProb = new float[vocab];
            for (int t = 0; t < vocab; t++) {
                logProb[t] = (float) (scratch[t] - lse);
                scratch[t] = (float) (beam.sumLogProb() + logProb[t]);
            }
            beam.chain().afterStep(beam.history(), scratch, 0, vocab);
            for (int t = 0; t < vocab; t++) {
                if (scratch[t] == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                double key = scratch[t] - Math.log(-Math.log(1.0 - rng.nextDouble())); // + Gumbel noise
                if (size == cap && key <= keys[size - 1]) {
                    continue;
                }
                int pos = size == cap ? size - 1 : size++;
                while (pos > 0 && keys[pos - 1] < key) {
                    keys[pos] = keys[pos - 1];
                    beamOf[pos] = beamOf[pos - 1];
                    tokenOf[pos] = tokenOf[pos - 1];
                    sums[pos] = sums[pos - 1];
                    pos--;
                }
                keys[pos] = key;
                beamOf[pos] = b;
                tokenOf[pos] = t;
                sums[pos] = beam.sumLogProb() + logProb[t];
            }
        }
        List<Candidate> candidates = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            candidates.add(new Candidate(beamOf[i], tokenOf[i], sums[i]));
        }
        return candidates;
    }

    /**
     * Copies the beam's checked preference row into {@code scratch} and runs the before-step processors on
     * it (with the beam's history); returns its log-sum-exp.
     */
    private double logProbRow(Logits logits, Beam beam, int stepIndex, int vocab) {
        try {
            PassThrough.PREFERENCE.apply(logits.data(), logits.offset(beam.row()), null, 0, scratch, 0, vocab);
        } catch (LogitsException e) {
            throw e.withContext(stepIndex, index);
        }
        if (beam.chain().hasBeforeStep()) {
            beam.chain().beforeStep(beam.history(), scratch, 0, vocab);
        }
        double lse = LogitsMath.logSumExp(scratch, 0, vocab);
        if (!(lse > Double.NEGATIVE_INFINITY) || lse == Double.POSITIVE_INFINITY) {
            throw new IllegalStateException("request " + index + ", step " + stepIndex + ": a processor before the "
                    + "step left " + (Double.isNaN(lse) ? "NaN in" : lse > 0 ? "+inf in" : "every token masked in")
                    + " a beam's row");
        }
        return lse;
    }

    private void addHypothesis(int[] ids, String text, double sum, int length, FinishReason reason) {
        finished.add(new Hypothesis(ids, text, sum / Math.pow(length, lengthPenalty), reason));
        finished.sort(Comparator.comparingDouble((Hypothesis h) -> -h.score()));
        if (finished.size() > numBeams) {
            finished.remove(finished.size() - 1);
        }
    }

    /**
     * Whether the search ends after a step that generated {@code length} tokens: {@code numBeams} hypotheses
     * are finished and the {@link EarlyStopping} rule of the configuration says that no live beam needs to
     * continue (Hugging Face's rules; the live beams' best sum divided by {@code length^lengthPenalty}, or by
     * {@code maxNewTokens^lengthPenalty} for {@code never} with a positive penalty, against the worst score).
     */
    private boolean done(List<Beam> live, int length) {
        if (finished.size() < numBeams) {
            return false;
        }
        if (earlyStopping == EarlyStopping.WHEN_FULL) {
            return true;
        }
        double worst = finished.get(finished.size() - 1).score();
        double bestSum = Double.NEGATIVE_INFINITY;
        for (Beam b : live) {
            bestSum = Math.max(bestSum, b.sumLogProb());
        }
        int bestLength = earlyStopping == EarlyStopping.NEVER && lengthPenalty > 0 ? config.maxNewTokens() : length;
        return bestSum / Math.pow(bestLength, lengthPenalty) <= worst;
    }

    private void finishSearch() {
        Hypothesis best = finished.get(0); // never empty: a step that leaves no beam added a hypothesis
        TextTracker replay = prototype.fresh();
        for (int id : best.ids()) {
            String delta = replay.append(id);
            listener.onToken(index, id, delta);
        }
        String rest = replay.flush();
        if (!rest.isEmpty()) {
            listener.onToken(index, TokenListener.NO_TOKEN, rest);
        }
        finish(best.ids(), best.text(), best.reason());
    }

    /** Indices of the {@code n} largest values (descending, lower index first on ties), -inf excluded. */
    static int[] topIndices(float[] a, int vocab, int n) {
        int[] idx = new int[Math.min(n, vocab)];
        float[] val = new float[idx.length];
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            float v = a[i];
            if (v == Float.NEGATIVE_INFINITY || (size == idx.length && v <= val[size - 1])) {
                continue;
            }
            int pos = size == idx.length ? size - 1 : size++;
            while (pos > 0 && val[pos - 1] < v) {
                val[pos] = val[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            val[pos] = v;
            idx[pos] = i;
        }
        return java.util.Arrays.copyOf(idx, size);
    }
}
