package io.github.amulet4j.generate;

import java.util.Arrays;
import java.util.Objects;

/**
 * The output of one request.
 *
 * @param tokenIds               generated token ids (no end-of-sequence token; text past a stop string is cut but its tokens stay)
 * @param text                   decoded text, cut before the stop string if one ended the request
 * @param finishReason           why generation stopped
 * @param basePromptTokens       length of the base prompt (0 if the method does not use the base stream)
 * @param preferencePromptTokens length of the preference prompt (0 if the method does not use it)
 * @param prefillNanos           wall time of the batch's prefill (shared by all requests of the batch)
 * @param decodeNanos            wall time from the end of the prefill until this request finished
 * @param stats                  the request's timings and token counts (time to first token, decode steps, time in
 *                               the forward passes; {@code prefillNanos} and {@code decodeNanos} again)
 */
public record GenerationResult(int[] tokenIds, String text, FinishReason finishReason, int basePromptTokens,
        int preferencePromptTokens, long prefillNanos, long decodeNanos, GenerationStats stats) {

    public GenerationResult {
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        Objects.requireNonNull(stats, "stats");
        tokenIds = tokenIds.clone();
    }

    /** A result whose stats know only the prompt size and the prefill and decode times. */
    public GenerationResult(int[] tokenIds, String text, FinishReason finishReason, int basePromptTokens,
            int preferencePromptTokens, long prefillNanos, long decodeNanos) {
        this(tokenIds, text, finishReason, basePromptTokens, preferencePromptTokens, prefillNanos, decodeNanos,
                GenerationStats.of(basePromptTokens + preferencePromptTokens, prefillNanos, decodeNanos));
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Number of generated tokens. */
    public int generatedTokens() {
        return tokenIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationResult r && Arrays.equals(tokenIds, r.tokenIds) && text.equals(r.text)
                && finishReason == r.finishReason && basePromptTokens == r.basePromptTokens
                && preferencePromptTokens == r.preferencePromptTokens && prefillNanos == r.prefillNanos
                && decodeNanos == r.decodeNanos && stats.equals(r.stats);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokenIds), text, finishReason);
    }

    @Override
    public String toString() {
        return "GenerationResult[" + finishReason + ", " + tokenIds.length + " tokens, text=" + text + "]";
    }
}
