package io.github.amulet4j.decode;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The decoding chain of one request (or one beam): processors that run before the Amulet step on each
 * stream's logits, processors that run after it on the adjusted row, then the sampler chain's warpers and
 * picker ({@link SamplerChain}), and {@link #accept(int)} with the chosen token.
 *
 * <ul>
 *   <li>before the step: {@link RepetitionPenalty} and {@link NoRepeatNgram} from the {@link DecodingConfig}
 *       (when on), then the configuration's own processors, in order;</li>
 *   <li>after the step: the configuration's own processors, then (sampling only) temperature, top-k, top-p,
 *       min-p, then the greedy or random pick.</li>
 * </ul>
 * Not thread-safe: it holds the request's processor copies. {@link #copy()} gives a beam its own.
 */
public final class DecodingChain {

    private final List<HistoryProcessor> beforeStep;
    private final List<HistoryProcessor> afterStep;
    private final SamplerChain sampler;

    private DecodingChain(List<HistoryProcessor> beforeStep, List<HistoryProcessor> afterStep, SamplerChain sampler) {
        this.beforeStep = beforeStep;
        this.afterStep = afterStep;
        this.sampler = sampler;
    }

    /**
     * The chain of one request: the built-in processors of {@code config} and a {@link HistoryProcessor#copy()}
     * of each processor given.
     */
    public static DecodingChain of(DecodingConfig config, List<? extends HistoryProcessor> beforeStep,
            List<? extends HistoryProcessor> afterStep) {
        List<HistoryProcessor> before = new ArrayList<>();
        if (config.repetitionPenalty() != 1.0) {
            before.add(new RepetitionPenalty(config.repetitionPenalty()));
        }
        if (config.noRepeatNgramSize() > 0) {
            before.add(new NoRepeatNgram(config.noRepeatNgramSize()));
        }
        for (HistoryProcessor p : beforeStep) {
            before.add(p.copy());
        }
        List<HistoryProcessor> after = new ArrayList<>();
        for (HistoryProcessor p : afterStep) {
            after.add(p.copy());
        }
        return new DecodingChain(before, after, SamplerChain.of(config));
    }

    /** Whether anything runs before the step (when not, the streams' logits are used as they are). */
    public boolean hasBeforeStep() {
        return !beforeStep.isEmpty();
    }

    /** Whether anything runs after the step before the picker (processors or warpers). */
    public boolean hasAfterStep() {
        return !afterStep.isEmpty() || !sampler.processors().isEmpty();
    }

    /** Runs the before-step processors on one stream's row, with that stream's history. */
    public void beforeStep(TokenHistory history, float[] logits, int off, int vocab) {
        for (HistoryProcessor p : beforeStep) {
            p.process(history, logits, off, vocab);
        }
    }

    /** Runs the after-step processors, then the sampler chain's warpers (temperature ... min-p when sampling). */
    public void afterStep(TokenHistory history, float[] logits, int off, int vocab) {
        for (HistoryProcessor p : afterStep) {
            p.process(history, logits, off, vocab);
        }
        for (LogitsProcessor p : sampler.processors()) {
            p.process(logits, off, vocab);
        }
    }

    /** {@link #afterStep}, then the picker. */
    public int sample(TokenHistory history, float[] logits, int off, int vocab, SplittableRandom rng) {
        afterStep(history, logits, off, vocab);
        return sampler.picker().pick(logits, off, vocab, rng);
    }

    /** Tells every processor the token chosen. */
    public void accept(int token) {
        for (HistoryProcessor p : beforeStep) {
            p.accept(token);
        }
        for (HistoryProcessor p : afterStep) {
            p.accept(token);
        }
    }

    /** A chain with a {@link HistoryProcessor#copy()} of each processor (for a new beam). */
    public DecodingChain copy() {
        List<HistoryProcessor> before = new ArrayList<>(beforeStep.size());
        for (HistoryProcessor p : beforeStep) {
            before.add(p.copy());
        }
        List<HistoryProcessor> after = new ArrayList<>(afterStep.size());
        for (HistoryProcessor p : afterStep) {
            after.add(p.copy());
        }
        return new DecodingChain(before, after, sampler);
    }

    /** The warpers and the picker. */
    public SamplerChain sampler() {
        return sampler;
    }

    @Override
    public String toString() {
        return "DecodingChain[before step " + beforeStep + ", after step " + afterStep + ", " + sampler + "]";
    }
}
