package io.github.amulet4j.cli.bench;

/**
 * The timings of one method in one benchmark run.
 *
 * @param method        what was timed
 * @param kvCache       whether the model kept a KV cache
 * @param prefillTokens prompt tokens of all streams, run in one batched forward pass
 * @param prefillNanos  wall time of that prefill
 * @param newTokens     tokens generated
 * @param forwardPasses forward passes after the prefill ({@code newTokens - 1}: the first token comes from the prefill)
 * @param decodeNanos   wall time from the end of the prefill to the last token, as the generation loop measures it
 * @param forwardNanos  the part of {@code decodeNanos} spent in the model's forward passes (logits copy included)
 * @param copyNanos     the part of {@code forwardNanos} spent copying logits from the engine into Java arrays
 */
public record MethodResult(BenchMethod method, boolean kvCache, int prefillTokens, long prefillNanos, int newTokens,
                           int forwardPasses, long decodeNanos, long forwardNanos, long copyNanos) {

    /** Prompt tokens (of all streams) per second of prefill. */
    public double prefillTokensPerSecond() {
        return prefillTokens / (prefillNanos / 1e9);
    }

    /** Milliseconds per generated token in decoding (one forward pass for all streams, the step, the sampling). */
    public double msPerToken() {
        return decodeNanos / 1e6 / forwardPasses;
    }

    /** Generated tokens per second of decoding. */
    public double decodeTokensPerSecond() {
        return 1000.0 / msPerToken();
    }

    /**
     * Share of a token's time spent outside the forward pass proper: copying the logits out of the engine, the
     * method's step over the streams' logits, and sampling.
     */
    public double outsideForwardShare() {
        return (double) (decodeNanos - forwardNanos + copyNanos) / decodeNanos;
    }
}
