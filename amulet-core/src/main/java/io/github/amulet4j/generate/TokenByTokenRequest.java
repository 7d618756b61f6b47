package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentStep;
import io.github.amulet4j.align.LogitsException;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.decode.SamplerChain;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A request decoded one token at a time by an {@link AlignmentStep} and a {@link SamplerChain}
 * ({@code base}, {@code pref}, {@code la}, {@code amulet}). Rows: preference stream first (if used), then
 * base stream (if used); the chosen token goes to every one of them.
 */
final class TokenByTokenRequest extends RequestState {

    private final AlignmentStep step;
    private final SamplerChain chain;
    private final SplittableRandom rng;
    private final TextTracker text;
    private final float[] scratch;

    TokenByTokenRequest(int index, GenerationConfig config, Set<Integer> eos, TokenListener listener,
            int basePromptTokens, int preferencePromptTokens, TextTracker text, float[] scratch) {
        super(index, config, eos, listener, basePromptTokens, preferencePromptTokens);
        this.step = config.step();
        this.chain = SamplerChain.of(config.decoding());
        this.rng = SamplerChain.randomFor(config.decoding());
        this.text = text;
        this.scratch = scratch;
    }

    @Override
    void advance(Logits logits, DecodingSession session, int stepIndex, int vocab, int maxPositions,
            IntList sources, IntList tokens) {
        float[] data = logits.data();
        int prefOff = step.readsPreference() ? logits.offset(rows[0]) : 0;
        int baseOff = step.readsBase() ? logits.offset(rows[rows.length - 1]) : 0;
        try {
            step.apply(data, prefOff, data, baseOff, scratch, 0, vocab);
        } catch (LogitsException e) {
            throw e.withContext(stepIndex, index);
        }
        int token = chain.sample(scratch, 0, vocab, rng);
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
