package io.github.amulet4j.generate;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import java.util.Set;

/** The progress of one request inside a batch: which session rows are its streams, and its output. */
abstract class RequestState {

    final int index;
    final GenerationConfig config;
    final Set<Integer> eos;
    final TokenListener listener;
    final int basePromptTokens;
    final int preferencePromptTokens;
    /** Session rows of this request's live streams. */
    int[] rows;
    GenerationResult result;
    long prefillNanos;
    long decodeStart;

    RequestState(int index, GenerationConfig config, Set<Integer> eos, TokenListener listener,
            int basePromptTokens, int preferencePromptTokens) {
        this.index = index;
        this.config = config;
        this.eos = eos;
        this.listener = listener;
        this.basePromptTokens = basePromptTokens;
        this.preferencePromptTokens = preferencePromptTokens;
    }

    boolean finished() {
        return result != null;
    }

    /**
     * Chooses this request's next token(s) from {@code logits}; either finishes or appends, for each
     * stream that continues, its source row to {@code sources} and its token to {@code tokens} (and
     * updates {@link #rows} to the positions they will have after the select).
     */
    abstract void advance(Logits logits, DecodingSession session, int step, int vocab, int maxPositions,
            IntList sources, IntList tokens);

    void finish(int[] ids, String text, FinishReason reason) {
        result = new GenerationResult(ids, text, reason, basePromptTokens, preferencePromptTokens, prefillNanos,
                System.nanoTime() - decodeStart);
        listener.onFinish(index, result);
    }
}
