package io.github.amulet4j.decode;

import java.util.OptionalLong;

/**
 * How a token is chosen from the adjusted logits, with Hugging Face's names and rule: {@code doSample}
 * false (the default, as in the paper) takes the argmax; {@code doSample} true draws a token, seeded, after
 * temperature, top-k, top-p and min-p ({@code do_sample}, {@code temperature}, {@code top_k}, {@code top_p},
 * {@code min_p}). Repetition penalty and no-repeat n-gram size ({@code repetition_penalty},
 * {@code no_repeat_ngram_size}) apply in both modes, on each stream before the Amulet step (see
 * {@link DecodingChain}). Temperature, top-k, top-p, min-p and seed are sampling settings: greedy decoding keeps them but does not use
 * them (none of them changes the argmax). A temperature of 0 means greedy decoding (as in OpenAI's API and
 * llama.cpp); with {@code doSample} true it is an error. Immutable; validated at construction.
 */
public final class DecodingConfig {

    private static final DecodingConfig GREEDY = builder().build();

    private final boolean doSample;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final double minP;
    private final double repetitionPenalty;
    private final int noRepeatNgramSize;
    private final Long seed;

    private DecodingConfig(Builder b) {
        if (!(b.temperature >= 0) || !Double.isFinite(b.temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0 (0 = greedy), got "
                    + b.temperature);
        }
        if (b.doSample && b.temperature == 0) {
            throw new IllegalArgumentException("temperature 0 means greedy decoding; sampling (doSample) needs a "
                    + "temperature > 0");
        }
        if (b.topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + b.topK);
        }
        if (!(b.topP > 0 && b.topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + b.topP);
        }
        if (!(b.minP >= 0 && b.minP <= 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 = off), got " + b.minP);
        }
        if (!(b.repetitionPenalty > 0) || !Double.isFinite(b.repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a finite number > 0 (1 = off), got "
                    + b.repetitionPenalty);
        }
        if (b.noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("noRepeatNgramSize must be >= 0 (0 = off), got " + b.noRepeatNgramSize);
        }
        this.minP = b.minP;
        this.repetitionPenalty = b.repetitionPenalty;
        this.noRepeatNgramSize = b.noRepeatNgramSize;
        this.doSample = b.doSample;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.seed = b.seed;
    }

    /** Greedy argmax decoding (the paper's setting). */
    public static DecodingConfig greedy() {
        return GREEDY;
    }

    /** Seeded sampling with the given temperature (> 0) and no top-k/top-p filter. */
    public static DecodingConfig sampling(double temperature, long seed) {
        return builder().doSample(true).temperature(temperature).seed(seed).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().doSample(doSample).temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repetitionPenalty).noRepeatNgramSize(noRepeatNgramSize);
        b.seed = seed;
        return b;
    }

    /** True: a random draw from the filtered distribution (Hugging Face {@code do_sample}); false: argmax. */
    public boolean doSample() {
        return doSample;
    }

    /** True: argmax; the inverse of {@link #doSample()}. */
    public boolean isGreedy() {
        return !doSample;
    }

    /** Divisor of the logits before sampling; 0 only with greedy decoding. */
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

    /** Min-p filter before drawing ({@link MinP}); 0 = off. A sampling setting. */
    public double minP() {
        return minP;
    }

    /**
     * Repetition penalty ({@link RepetitionPenalty}) on each stream's logits before the Amulet step, greedy
     * or sampling; 1 = off.
     */
    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    /** No-repeat n-gram size ({@link NoRepeatNgram}) on each stream before the step, greedy or sampling; 0 = off. */
    public int noRepeatNgramSize() {
        return noRepeatNgramSize;
    }

    /** Seed of the per-request random generator; empty = a fresh random seed per request. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    @Override
    public String toString() {
        String always = (repetitionPenalty != 1 ? ", repetitionPenalty=" + repetitionPenalty : "")
                + (noRepeatNgramSize != 0 ? ", noRepeatNgramSize=" + noRepeatNgramSize : "");
        return !doSample ? "DecodingConfig[greedy" + always + "]"
                : "DecodingConfig[sample, temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
                        + (minP != 0 ? ", minP=" + minP : "") + ", seed=" + seed + always + "]";
    }

    /**
     * Builder of {@link DecodingConfig}; defaults: greedy ({@code doSample} false), temperature 1, top-k, top-p,
     * min-p, repetition penalty and no-repeat n-grams off, no seed.
     */
    public static final class Builder {
        private boolean doSample = false;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private double minP = 0.0;
        private double repetitionPenalty = 1.0;
        private int noRepeatNgramSize = 0;
        private Long seed;

        private Builder() {
        }

        /** {@code true} turns sampling on (Hugging Face's {@code do_sample}); default false (greedy). */
        public Builder doSample(boolean doSample) {
            this.doSample = doSample;
            return this;
        }

        /**
         * The inverse of {@link #doSample(boolean)}: {@code greedy(false)} turns sampling on.
         *
         * @deprecated use {@link #doSample(boolean)}, Hugging Face's name and sense
         */
        @Deprecated
        public Builder greedy(boolean greedy) {
            return doSample(!greedy);
        }

        /** Temperature: {@code > 0} for sampling; 0 means greedy decoding. */
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

        /** Min-p, in {@code [0, 1]}; 0 = off (Hugging Face's {@code min_p}). */
        public Builder minP(double minP) {
            this.minP = minP;
            return this;
        }

        /** Repetition penalty, {@code > 0}; 1 = off (Hugging Face's {@code repetition_penalty}). */
        public Builder repetitionPenalty(double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        /** No-repeat n-gram size, {@code >= 0}; 0 = off (Hugging Face's {@code no_repeat_ngram_size}). */
        public Builder noRepeatNgramSize(int noRepeatNgramSize) {
            this.noRepeatNgramSize = noRepeatNgramSize;
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
