package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentStep;
import io.github.amulet4j.align.AmuletForm;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.LinearAlignment;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingChain;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.decode.HistoryProcessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything that decides how a request is generated: method, Amulet hyperparameters, linear-alignment
 * ratio, beam-search settings, decoding, and when to stop. Immutable; defaults follow the paper
 * ({@code amulet}, closed form, T=60, eta=10, alpha=2, lambda=2, rho=2, 16 beams, greedy, 128 new tokens).
 * Names follow Hugging Face where one exists ({@code max_new_tokens}, {@code num_beams},
 * {@code length_penalty}, {@code early_stopping}, {@code eos_token_id}).
 */
public final class GenerationConfig {

    private static final GenerationConfig DEFAULTS = builder().build();

    private final int maxNewTokens;
    private final List<String> stopStrings;
    private final Set<Integer> eosTokenIds;
    private final AlignmentMethod method;
    private final AmuletParameters amulet;
    private final AmuletForm amuletForm;
    private final double rho;
    private final int numBeams;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final DecodingConfig decoding;
    private final List<HistoryProcessor> processorsBeforeStep;
    private final List<HistoryProcessor> processorsAfterStep;

    private GenerationConfig(Builder b) {
        if (b.maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + b.maxNewTokens);
        }
        for (String s : b.stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty, got " + b.stopStrings);
            }
        }
        for (Integer id : b.eosTokenIds) {
            if (id == null || id < 0) {
                throw new IllegalArgumentException("EOS token ids must be >= 0, got " + b.eosTokenIds);
            }
        }
        if (!Double.isFinite(b.rho)) {
            throw new IllegalArgumentException("rho (linear alignment ratio) must be finite, got " + b.rho);
        }
        if (b.numBeams < 1) {
            throw new IllegalArgumentException("numBeams must be >= 1, got " + b.numBeams);
        }
        if (!Double.isFinite(b.lengthPenalty)) {
            throw new IllegalArgumentException("lengthPenalty must be finite, got " + b.lengthPenalty);
        }
        this.method = Objects.requireNonNull(b.method, "method");
        this.amulet = Objects.requireNonNull(b.amulet, "amulet");
        this.amuletForm = Objects.requireNonNull(b.amuletForm, "amuletForm");
        this.decoding = Objects.requireNonNull(b.decoding, "decoding");
        this.earlyStopping = Objects.requireNonNull(b.earlyStopping, "earlyStopping");
        this.processorsBeforeStep = List.copyOf(b.processorsBeforeStep);
        this.processorsAfterStep = List.copyOf(b.processorsAfterStep);
        this.maxNewTokens = b.maxNewTokens;
        this.stopStrings = List.copyOf(b.stopStrings);
        this.eosTokenIds = Set.copyOf(new LinkedHashSet<>(b.eosTokenIds));
        this.rho = b.rho;
        this.numBeams = b.numBeams;
        this.lengthPenalty = b.lengthPenalty;
    }

    /** The paper's defaults. */
    public static GenerationConfig defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().maxNewTokens(maxNewTokens).stopStrings(stopStrings).eosTokenIds(eosTokenIds)
                .method(method).amulet(amulet).amuletForm(amuletForm).rho(rho).numBeams(numBeams)
                .lengthPenalty(lengthPenalty).earlyStopping(earlyStopping).decoding(decoding)
                .processorsBeforeStep(processorsBeforeStep).processorsAfterStep(processorsAfterStep);
    }

    /** Most tokens generated per request (Hugging Face {@code max_new_tokens}); default 128. */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** Generation stops once the text contains one of these; the text is cut before it. */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** End-of-sequence ids in addition to the model's own (given to the {@link Generator}). */
    public Set<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    public AlignmentMethod method() {
        return method;
    }

    public AmuletParameters amulet() {
        return amulet;
    }

    public AmuletForm amuletForm() {
        return amuletForm;
    }

    /** Linear-alignment ratio for {@link AlignmentMethod#LA}; default 2. */
    public double rho() {
        return rho;
    }

    /** Beams of {@link AlignmentMethod#BEAM}; default 16 (the paper's). */
    public int numBeams() {
        return numBeams;
    }

    /**
     * Beam score = sum of log-probabilities / length^lengthPenalty (length: the generated tokens, the
     * end-of-sequence token included); default 1. Positive values favour longer hypotheses.
     */
    public double lengthPenalty() {
        return lengthPenalty;
    }

    /** When beam search stops before {@link #maxNewTokens()}; default {@link EarlyStopping#HEURISTIC} (HF's). */
    public EarlyStopping earlyStopping() {
        return earlyStopping;
    }

    public DecodingConfig decoding() {
        return decoding;
    }

    /** The user's processors that run before the Amulet step, on each stream's logits (see {@link DecodingChain}). */
    public List<HistoryProcessor> processorsBeforeStep() {
        return processorsBeforeStep;
    }

    /** The user's processors that run after the Amulet step, on the adjusted row (see {@link DecodingChain}). */
    public List<HistoryProcessor> processorsAfterStep() {
        return processorsAfterStep;
    }

    /** A new decoding chain for one request: {@link #decoding()}'s processors and copies of the user's. */
    public DecodingChain decodingChain() {
        return DecodingChain.of(decoding, processorsBeforeStep, processorsAfterStep);
    }

    /** The per-token step of this configuration's method ({@code null} for beam search). */
    public AlignmentStep step() {
        return method == AlignmentMethod.BEAM ? null : method.step(amulet, amuletForm, rho);
    }

    @Override
    public String toString() {
        return "GenerationConfig[method=" + method.id() + ", maxNewTokens=" + maxNewTokens + ", " + amulet
                + ", form=" + amuletForm + ", rho=" + rho + ", numBeams=" + numBeams + ", lengthPenalty="
                + lengthPenalty + ", earlyStopping=" + earlyStopping.id() + ", " + decoding + ", stop=" + stopStrings + ", eos=" + eosTokenIds
                + (processorsBeforeStep.isEmpty() ? "" : ", beforeStep=" + processorsBeforeStep)
                + (processorsAfterStep.isEmpty() ? "" : ", afterStep=" + processorsAfterStep) + "]";
    }

    /** Builder of {@link GenerationConfig}; validation happens in {@link #build()}. */
    public static final class Builder {
        private int maxNewTokens = 128;
        private List<String> stopStrings = new ArrayList<>();
        private Set<Integer> eosTokenIds = new LinkedHashSet<>();
        private AlignmentMethod method = AlignmentMethod.AMULET;
        private AmuletParameters amulet = AmuletParameters.PAPER_DEFAULTS;
        private AmuletForm amuletForm = AmuletForm.CLOSED_FORM;
        private double rho = LinearAlignment.DEFAULT_RHO;
        private int numBeams = 16;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.HEURISTIC;
        private DecodingConfig decoding = DecodingConfig.greedy();
        private List<HistoryProcessor> processorsBeforeStep = new ArrayList<>();
        private List<HistoryProcessor> processorsAfterStep = new ArrayList<>();

        private Builder() {
        }

        public Builder maxNewTokens(int n) {
            this.maxNewTokens = n;
            return this;
        }

        public Builder stopStrings(Collection<String> stops) {
            this.stopStrings = new ArrayList<>(stops);
            return this;
        }

        public Builder stopStrings(String... stops) {
            return stopStrings(List.of(stops));
        }

        public Builder eosTokenIds(Collection<Integer> ids) {
            this.eosTokenIds = new LinkedHashSet<>(ids);
            return this;
        }

        public Builder eosTokenIds(int... ids) {
            this.eosTokenIds = new LinkedHashSet<>();
            for (int id : ids) {
                eosTokenIds.add(id);
            }
            return this;
        }

        public Builder method(AlignmentMethod method) {
            this.method = method;
            return this;
        }

        public Builder amulet(AmuletParameters amulet) {
            this.amulet = amulet;
            return this;
        }

        public Builder amuletForm(AmuletForm form) {
            this.amuletForm = form;
            return this;
        }

        public Builder rho(double rho) {
            this.rho = rho;
            return this;
        }

        public Builder numBeams(int numBeams) {
            this.numBeams = numBeams;
            return this;
        }

        public Builder lengthPenalty(double lengthPenalty) {
            this.lengthPenalty = lengthPenalty;
            return this;
        }

        /** Hugging Face's {@code early_stopping} for beam search; default {@link EarlyStopping#HEURISTIC}. */
        public Builder earlyStopping(EarlyStopping earlyStopping) {
            this.earlyStopping = earlyStopping;
            return this;
        }

        public Builder decoding(DecodingConfig decoding) {
            this.decoding = decoding;
            return this;
        }

        /**
         * Adds a processor that runs before the Amulet step on each stream's logits, with that stream's
         * tokens (bans, grammars); after the built-in repetition penalty and no-repeat n-grams, in the order
         * added. Each request gets its own {@link HistoryProcessor#copy()}.
         */
        public Builder processorBeforeStep(HistoryProcessor processor) {
            processorsBeforeStep.add(Objects.requireNonNull(processor, "processor"));
            return this;
        }

        /**
         * Adds a processor that runs after the Amulet step on the adjusted row (for beam search: on each
         * beam's scores), before temperature, top-k, top-p and min-p, in the order added.
         */
        public Builder processorAfterStep(HistoryProcessor processor) {
            processorsAfterStep.add(Objects.requireNonNull(processor, "processor"));
            return this;
        }

        /** Replaces the processors that run before the step. */
        public Builder processorsBeforeStep(Collection<? extends HistoryProcessor> processors) {
            this.processorsBeforeStep = new ArrayList<>();
            processors.forEach(this::processorBeforeStep);
            return this;
        }

        /** Replaces the processors that run after the step. */
        public Builder processorsAfterStep(Collection<? extends HistoryProcessor> processors) {
            this.processorsAfterStep = new ArrayList<>();
            processors.forEach(this::processorAfterStep);
            return this;
        }

        /** @throws IllegalArgumentException naming the invalid field */
        public GenerationConfig build() {
            return new GenerationConfig(this);
        }
    }
}
