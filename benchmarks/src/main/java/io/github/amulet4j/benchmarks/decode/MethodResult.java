package io.github.amulet4j.benchmarks.decode;

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
 * @param copyNanos     the part of {@code forwardNanos} spent copying logits from the engine into Java arrays, or
 *                      {@link #NOT_MEASURED}: the public API does not report it, so {@link DecodeBenchmark} does not
 *                      (a backend that did would give it here)
 * @param memory        resident memory around the run
 */
public record MethodResult(BenchMethod method, boolean kvCache, int prefillTokens, long prefillNanos, int newTokens,
                           int forwardPasses, long decodeNanos, long forwardNanos, long copyNanos, Memory memory) {

    /** {@code copyNanos} of a run whose logits copy was not measured. */
    public static final long NOT_MEASURED = -1;

    /**
     * The rounds of one method summed ({@link DecodeBenchmarkSettings#rounds()}): tokens, forward passes and times
     * added, so that every rate is the rounds' total over their total time; the memory of the first round with the
     * highest peak of all.
     *
     * @throws IllegalArgumentException when {@code rounds} is empty or mixes methods
     */
    public static MethodResult sum(java.util.List<MethodResult> rounds) {
        if (rounds.isEmpty()) {
            throw new IllegalArgumentException("rounds must not be empty");
        }
        MethodResult first = rounds.get(0);
        int prefillTokens = 0;
        int newTokens = 0;
        int forwardPasses = 0;
        long prefillNanos = 0;
        long decodeNanos = 0;
        long forwardNanos = 0;
        long copyNanos = 0;
        long peak = first.memory.peakResident;
        for (MethodResult r : rounds) {
            if (r.method != first.method || r.kvCache != first.kvCache) {
                throw new IllegalArgumentException("rounds of different methods: " + first.method.id() + " and "
                        + r.method.id());
            }
            prefillTokens += r.prefillTokens;
            prefillNanos += r.prefillNanos;
            newTokens += r.newTokens;
            forwardPasses += r.forwardPasses;
            decodeNanos += r.decodeNanos;
            forwardNanos += r.forwardNanos;
            copyNanos = copyNanos < 0 || !r.copyMeasured() ? NOT_MEASURED : copyNanos + r.copyNanos;
            peak = peak < 0 || r.memory.peakResident < 0 ? -1 : Math.max(peak, r.memory.peakResident);
        }
        Memory m = first.memory;
        return new MethodResult(first.method, first.kvCache, prefillTokens, prefillNanos, newTokens, forwardPasses,
                decodeNanos, forwardNanos, copyNanos, new Memory(m.residentBefore, peak, m.weights, m.kvCache));
    }

    /** Whether the logits copy was measured. */
    public boolean copyMeasured() {
        return copyNanos >= 0;
    }

    /**
     * Resident memory of one run and its parts.
     *
     * @param residentBefore resident memory just before the run (the loaded weights, the JVM and the engine)
     * @param peakResident   peak resident memory during the run ({@code VmHWM}, reset before it), or -1 where the
     *                       peak cannot be reset
     * @param weights        bytes of the model's weights (engine arrays and Java heap)
     * @param kvCache        bytes of the run's KV cache (every layer's keys and values for all streams at its capacity)
     */
    public record Memory(long residentBefore, long peakResident, long weights, long kvCache) {

        /** Whether the peak was measured. */
        public boolean measured() {
            return peakResident > 0;
        }

        /** What the run added beyond the KV cache: prefill and decode temporaries (at least 0). */
        public long temporaries() {
            return Math.max(0, peakResident - residentBefore - kvCache);
        }

        /** Resident memory before the run that is not weights: the JVM, the engine's libraries, the tokenizer. */
        public long other() {
            return Math.max(0, residentBefore - weights);
        }
    }

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
     * Share of a token's time spent outside the forward pass proper: the method's step over the streams' logits,
     * sampling and the generation loop, and copying the logits out of the engine where that was measured (otherwise
     * the copy counts as part of the forward pass).
     */
    public double outsideForwardShare() {
        return (double) (decodeNanos - forwardNanos + Math.max(0, copyNanos)) / decodeNanos;
    }
}
