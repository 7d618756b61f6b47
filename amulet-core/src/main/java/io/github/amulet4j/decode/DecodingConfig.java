package io.github.amulet4j.decode;

import java.util.OptionalLong;

/**
 * How a token is chosen from the adjusted logits: greedy argmax (the default, as in the paper) or seeded
 * sampling after temperature, top-k and top-p (Hugging Face's {@code do_sample}, {@code temperature},
 * {@code top_k}, {@code top_p}). Immutable; validated at construction.
 */
public final class DecodingConfig {

    private static final DecodingConfig GREEDY = builder().build();

    private final boolean greedy;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final Long seed;

    private DecodingConfig(Builder b) {
        if (!(b.temperature > 0) || !Double.isFinite(b.temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number > 0, got " + b.temperature);
        }
        if (b.topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + b.topK);
        }
        if (!(b.topP > 0 && b.topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + b.topP);
        }
        this.greedy = b.greedy;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.seed = b.seed;
    }

    /** Greedy argmax decoding (the paper's setting). */
    public static DecodingConfig greedy() {
        return GREEDY;
    }

    /** Seeded sampling with the given temperature and no top-k/top-p filter. */
    public static DecodingConfig sampling(double temperature, long seed) {
        return builder().greedy(false).temperature(temperature).seed(seed).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().greedy(greedy).temperature(temperature).topK(topK).topP(topP);
        b.seed = seed;
        return b;
    }

    /** True: argmax; false: random draw from the filtered distribution. */
    public boolean isGreedy() {
        return greedy;
    }

    public double temperature() {
        return temperature;
    }

    /** Number of most likely tokens kept before drawing; 0 = all. */
    public int topK() {
        return topK;
    }

    /** Nucleus mass kept before drawing; 1 = all. */
    public double topP() {
        return topP;
    }

    /** Seed of the per-request random generator; empty = a fresh random seed per request. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    @Override
    public String toString() {
        return greedy ? "DecodingConfig[greedy]"
                : "DecodingConfig[sample, temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
                        + ", seed=" + seed + "]";
    }

    /** Builder of {@link DecodingConfig}; defaults: greedy, temperature 1, top-k off, top-p off, no seed. */
    public static final class Builder {
        private boolean greedy = true;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private Long seed;

        private Builder() {
        }

        /** {@code false} turns sampling on (Hugging Face's {@code do_sample=true}). */
        public Builder greedy(boolean greedy) {
            this.greedy = greedy;
            return this;
        }

        public Builder temperature(double temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder topP(double topP) {
            this.topP = topP;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder noSeed() {
            this.seed = null;
            return this;
        }

        /** @throws IllegalArgumentException naming the invalid field */
        public DecodingConfig build() {
            return new DecodingConfig(this);
        }
    }
}
