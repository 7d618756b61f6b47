package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentStep;
import io.github.amulet4j.align.LogitsException;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.decode.DecodingChain;
import io.github.amulet4j.decode.SamplerChain;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A request decoded one token at a time by its {@link DecodingChain} around an {@link AlignmentStep}
 * ({@code base}, {@code pref}, {@code la}, {@code amulet}): the before-step processors on each stream's row
 * (a copy, with that stream's history), the step, the after-step processors and the sampler chain on the
 * adjusted row (with the preference stream's history, or the base stream's for {@code base}), then
 * {@code accept}. Rows: preference stream first (if used), then base stream (if used); the chosen token
 * goes to every one of them.
 */
final class TokenByTokenRequest extends RequestState {

    private final AlignmentStep step;
    private final DecodingChain chain;
    private final SplittableRandom rng;
    private final TextTracker text;
    private final float[] scratch;
    private final StreamHistory preferenceHistory;
    private final StreamHistory baseHistory;
    /** The streams' rows after the before-step processors ([preference | base]); allocated when needed. */
    private float[] processed;

    /**
     * @param streamPrompts the prompts of the request's streams in row order (preference first if the method
     *                      reads it, then base if it reads it)
     */
    TokenByTokenRequest(int index, GenerationConfig config, Set<Integer> eos, TokenListener listener,
            List<int[]> streamPrompts, TextTracker text, float[] scratch) {
        super(index, config, eos, listener,
                config.method().needsBase() ? streamPrompts.get(streamPrompts.size() - 1).length : 0,
                config.method().needsPreference() ? streamPrompts.get(0).length : 0);
        this.step = config.step();
        this.chain = config.decodingChain();
        this.rng = SamplerChain.randomFor(config.decoding());
        this.text = text;
        this.scratch = scratch;
        this.preferenceHistory = config.method().needsPreference() ? new StreamHistory(streamPrompts.get(0)) : null;
        this.baseHistory = config.method().needsBase()
                ? new StreamHistory(streamPrompts.get(streamPrompts.size() - 1)) : null;
    }

    @Override
    void advance(Logits logits, DecodingSession session, int stepIndex, int vocab, int maxPositions,
            IntList sources, IntList tokens) {
        float[] pref = logits.data();
        float[] base = pref;
        int prefOff = step.readsPreference() ? logits.offset(rows[0]) : 0;
        int baseOff = step.readsBase() ? logits.offset(rows[rows.length - 1]) : 0;
        if (chain.hasBeforeStep()) {
            if (processed == null || processed.length < 2 * vocab) {
                processed = new float[2 * vocab];
            }
            if (step.readsPreference()) {
                System.arraycopy(pref, prefOff, processed, 0, vocab);
                chain.beforeStep(preferenceHistory, processed, 0, vocab);
                pref = processed;
                prefOff = 0;
            }
            if (step.readsBase()) {
                System.arraycopy(base, baseOff, processed, vocab, vocab);
                chain.beforeStep(baseHistory, processed, vocab, vocab);
                base = processed;
                baseOff = vocab;
            }
        }
        try {
            step.apply(pref, prefOff, base, baseOff, scratch, 0, vocab);
        } catch (LogitsException e) {
            throw e.withContext(stepIndex, index);
        }
        int token = chain.sample(preferenceHistory != null ? preferenceHistory : baseHistory, scratch, 0, vocab, rng);
        chain.accept(token);
        if (preferenceHistory != null) {
            preferenceHistory.append(token);
        }
        if (baseHistory != null) {
            baseHistory.append(token);
        }
        if (eos.contains(token)) {
            emitFlush();
            finish(text.ids(), text.text(), FinishReason.EOS);
            return;
        }
        String delta = text.append(token);
        FinishReason reason = null;
        if (text.stopped()) {
            reason = FinishReason.STOP_STRING;
        } else if (text.count() >= config.maxNewTokens()) {
            reason = FinishReason.MAX_NEW_TOKENS;
        } else {
            for (int r : rows) {
                if (session.length(r) + 1 > maxPositions) {
                    reason = FinishReason.MAX_POSITIONS;
                }
            }
        }
        if (reason != null) {
            delta += text.flush();
        }
        listener.onToken(index, token, delta);
        if (reason != null) {
            finish(text.ids(), text.text(), reason);
            return;
        }
        int[] next = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            next[i] = sources.size();
            sources.add(rows[i]);
            tokens.add(token);
        }
        rows = next;
    }

    private void emitFlush() {
        String rest = text.flush();
        if (!rest.isEmpty()) {
            listener.onToken(index, TokenListener.NO_TOKEN, rest);
        }
    }
}
