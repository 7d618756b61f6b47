package io.github.amulet4j.generate;

/**
 * Per-request timings and token counts of one generation (the figures vLLM's request metrics and Hugging Face's
 * text-generation servers report: time to first token, prefill and decode tokens per second), in
 * {@link GenerationResult#stats()}. Times are wall-clock nanoseconds ({@link System#nanoTime()}); in a batch, the
 * prefill and the decode forward passes are shared by every request taking part in them, and each request counts
 * them in full.
 *
 * @param promptTokens          prompt tokens prefilled for the request: every stream its method reads (base and
 *                              preference prompts together for {@code amulet} and {@code la})
 * @param prefillNanos          wall time of the prefill that held the request's prompts
 * @param timeToFirstTokenNanos from the start of the request (the {@code generate} call, or its submission to a
 *                              {@link ContinuousBatcher}, waiting included) until its first token was chosen (for
 *                              beam search: its first step; beams report their tokens at the end)
 * @param decodeSteps           forward passes after the prefill whose logits the request used: one per generated
 *                              token after the first, which comes from the prefill (a request that ends on an
 *                              end-of-sequence token also uses the pass that produced it)
 * @param decodeNanos           wall time from the end of the prefill until the request finished
 * @param decodeForwardNanos    the part of {@code decodeNanos} spent in those {@code decodeSteps} forward passes
 *                              (the model itself, logits included); the rest is the Amulet step, the decoding
 *                              chain, the sampler, the loop and the listener
 * @param totalNanos            from the start of the request until it finished
 * @param promptTokensReused    the part of {@code promptTokens} restored from the backend's prompt cache instead of
 *                              prefilled (a conversation's earlier turns; 0 without a cache)
 */
public record GenerationStats(int promptTokens, long prefillNanos, long timeToFirstTokenNanos, int decodeSteps,
        long decodeNanos, long decodeForwardNanos, long totalNanos, int promptTokensReused) {

    public GenerationStats {
        if (promptTokens < 0 || decodeSteps < 0 || promptTokensReused < 0 || promptTokensReused > promptTokens) {
            throw new IllegalArgumentException("token counts must be >= 0 (reused at most the prompt): prompt "
                    + promptTokens + ", reused " + promptTokensReused + ", decode steps " + decodeSteps);
        }
    }

    /** Stats without prompt-cache reuse. */
    public GenerationStats(int promptTokens, long prefillNanos, long timeToFirstTokenNanos, int decodeSteps,
            long decodeNanos, long decodeForwardNanos, long totalNanos) {
        this(promptTokens, prefillNanos, timeToFirstTokenNanos, decodeSteps, decodeNanos, decodeForwardNanos,
                totalNanos, 0);
    }

    /** Prompt tokens that went through the model: {@code promptTokens - promptTokensReused}. */
    public int promptTokensPrefilled() {
        return promptTokens - promptTokensReused;
    }

    /** Stats that know only the prompt size and the prefill and decode times (the rest 0). */
    public static GenerationStats of(int promptTokens, long prefillNanos, long decodeNanos) {
        return new GenerationStats(promptTokens, prefillNanos, 0, 0, decodeNanos, 0, 0);
    }

    /** Prompt tokens per second of prefill; NaN when no time was measured. */
    public double prefillTokensPerSecond() {
        return prefillNanos <= 0 ? Double.NaN : promptTokens / (prefillNanos / 1e9);
    }

    /** Decode steps (tokens after the first) per second of decoding; NaN without a decode step. */
    public double decodeTokensPerSecond() {
        return decodeSteps == 0 || decodeNanos <= 0 ? Double.NaN : decodeSteps / (decodeNanos / 1e9);
    }

    /** Mean wall time per token after the first ({@code decodeNanos / decodeSteps}, vLLM's TPOT); NaN without one. */
    public double nanosPerOutputToken() {
        return decodeSteps == 0 ? Double.NaN : (double) decodeNanos / decodeSteps;
    }

    /** Share of {@code decodeNanos} spent outside the forward passes (step, sampling, loop); NaN without decode time. */
    public double outsideForwardShare() {
        return decodeNanos <= 0 ? Double.NaN : (double) (decodeNanos - decodeForwardNanos) / decodeNanos;
    }
}
