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
    /** Prompt tokens of this request's streams that the prefill restored from a prompt cache. */
    int promptTokensReused;
    long decodeStart;
    /** When the request started (the generate call, or its submission to a batcher). */
    long startedAt;
    /** When its first token was chosen; valid once {@link #firstTokenChosen}. */
    private long firstTokenAt;
    private boolean firstTokenChosen;
    /** Decode forward passes this request used, and their wall time. */
    private int decodeSteps;
    private long decodeForwardNanos;

    RequestState(int index, GenerationConfig config, Set<Integer> eos, TokenListener listener,
            int basePromptTokens, int preferencePromptTokens) {
        this.index = index;
        this.config = config;
        this.eos = eos;
        this.listener = listener;
        this.basePromptTokens = basePromptTokens;
        this.preferencePromptTokens = preferencePromptTokens;
    }

    /** Reads, right after the prefill, how many prompt tokens of this request's rows the session reused. */
    void countReused(DecodingSession session) {
        int n = 0;
        for (int row : rows) {
            n += session.reusedPromptTokens(row);
        }
        promptTokensReused = n;
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

    /** Records the end of a step of this request: the first one is when its first token was chosen. */
    void stepped() {
        if (!firstTokenChosen) {
            firstTokenChosen = true;
            firstTokenAt = System.nanoTime();
        }
    }

    /** Counts a decode forward pass of {@code nanos} that computed this request's next logits. */
    void forwardPass(long nanos) {
        decodeSteps++;
        decodeForwardNanos += nanos;
    }

    void finish(int[] ids, String text, FinishReason reason) {
        stepped();
        long now = System.nanoTime();
        GenerationStats stats = new GenerationStats(basePromptTokens + preferencePromptTokens, prefillNanos,
                firstTokenAt - startedAt, decodeSteps, now - decodeStart, decodeForwardNanos, now - startedAt,
                Math.min(promptTokensReused, basePromptTokens + preferencePromptTokens));
        result = new GenerationResult(ids, text, reason, basePromptTokens, preferencePromptTokens, prefillNanos,
                now - decodeStart, stats);
        listener.onFinish(index, result);
    }
}
