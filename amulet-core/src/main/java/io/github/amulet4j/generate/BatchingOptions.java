package io.github.amulet4j.generate;

/**
 * Limits of a {@link ContinuousBatcher}: how many streams decode together, how many requests may wait,
 * and how many prompt tokens are prefilled between two decoding steps. Immutable; build with
 * {@link #builder()}.
 */
public final class BatchingOptions {

    private static final BatchingOptions DEFAULTS = builder().build();

    private final int maxBatchStreams;
    private final int maxQueue;
    private final int prefillTokensPerStep;

    private BatchingOptions(Builder b) {
        if (b.maxBatchStreams < 1) {
            throw new IllegalArgumentException("maxBatchStreams must be >= 1, got " + b.maxBatchStreams);
        }
        if (b.maxQueue < 0) {
            throw new IllegalArgumentException("maxQueue must be >= 0, got " + b.maxQueue);
        }
        if (b.prefillTokensPerStep < 1) {
            throw new IllegalArgumentException("prefillTokensPerStep must be >= 1, got " + b.prefillTokensPerStep);
        }
        this.maxBatchStreams = b.maxBatchStreams;
        this.maxQueue = b.maxQueue;
        this.prefillTokensPerStep = b.prefillTokensPerStep;
    }

    /** 16 streams (8 Amulet requests), 64 waiting requests, 512 prompt tokens per step. */
    public static BatchingOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Most streams decoded together (an {@code amulet} or {@code la} request has two, {@code base} and
     * {@code pref} one, {@code beam} {@code numBeams}).
     */
    public int maxBatchStreams() {
        return maxBatchStreams;
    }

    /**
     * Most requests waiting for room in the batch; one more is refused. A request that fits into the batch's
     * free room joins at the next step and does not count, so 0 means no waiting room (a request runs at
     * once or is refused), not "refuse everything". A cancelled request leaves the queue at once.
     */
    public int maxQueue() {
        return maxQueue;
    }

    /**
     * Prompt tokens prefilled between two decoding steps: newcomers whose prompts fit join together in one
     * prefill; a longer prompt is prefilled in chunks of this many tokens, one chunk between two steps. So a
     * newcomer never stalls the running requests for more than one chunk.
     */
    public int prefillTokensPerStep() {
        return prefillTokensPerStep;
    }

    @Override
    public String toString() {
        return "BatchingOptions[maxBatchStreams=" + maxBatchStreams + ", maxQueue=" + maxQueue
                + ", prefillTokensPerStep=" + prefillTokensPerStep + "]";
    }

    /** Builder of {@link BatchingOptions}; validated in {@link #build()}. */
    public static final class Builder {
        private int maxBatchStreams = 16;
        private int maxQueue = 64;
        private int prefillTokensPerStep = 512;

        private Builder() {
        }

        public Builder maxBatchStreams(int n) {
            this.maxBatchStreams = n;
            return this;
        }

        public Builder maxQueue(int n) {
            this.maxQueue = n;
            return this;
        }

        public Builder prefillTokensPerStep(int n) {
            this.prefillTokensPerStep = n;
            return this;
        }

        public BatchingOptions build() {
            return new BatchingOptions(this);
        }
    }
}
