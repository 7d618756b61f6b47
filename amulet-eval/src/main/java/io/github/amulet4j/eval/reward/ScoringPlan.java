package io.github.amulet4j.eval.reward;

import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RewardEncoding;

import java.util.List;
import java.util.Objects;

/**
 * How {@code eval --score} scores its results once they are generated: the reward model, the input format, the
 * objective, the candidates of the win rates, the batch and where the scores go. Immutable; built with
 * {@link #builder()}. Travels inside an {@link io.github.amulet4j.eval.EvalPlan} to Spark executors.
 */
public final class ScoringPlan {

    private final ModelOptions rewardModel;
    private final boolean paperFormat;
    private final boolean truncate;
    private final String objective;
    private final List<String> candidates;
    private final int batch;
    private final String scoresOut;

    private ScoringPlan(Builder b) {
        this.rewardModel = b.rewardModel;
        this.paperFormat = b.paperFormat;
        this.truncate = b.truncate;
        this.objective = b.objective;
        this.candidates = List.copyOf(b.candidates);
        this.batch = b.batch;
        this.scoresOut = b.scoresOut;
    }

    /** A builder: {@code auto} objective, candidate {@code amulet}, batch 8, documented format. */
    public static Builder builder() {
        return new Builder();
    }

    /** The reward model (a folder or a Hub id, with its runtime options). */
    public ModelOptions rewardModel() {
        return rewardModel;
    }

    /** Whether the paper's input format is used ({@link RewardEncoding.Style#PAPER}). */
    public boolean paperFormat() {
        return paperFormat;
    }

    /** Whether a conversation longer than the reward model's context is cut to it. */
    public boolean truncate() {
        return truncate;
    }

    /** The objective: {@code auto}, a label's name or index ({@link RewardScoring#objectiveIndex}). */
    public String objective() {
        return objective;
    }

    /** The methods whose win rates over the others are reported. */
    public List<String> candidates() {
        return candidates;
    }

    /** Conversations scored in one forward pass. */
    public int batch() {
        return batch;
    }

    /** Where the scores go, or null for {@link #scoresFor(String)} of the eval's output. */
    public String scoresOut() {
        return scoresOut;
    }

    /** The scores of eval output {@code out}: {@code X.jsonl} -> {@code X.scores.jsonl}, a directory {@code D} -> {@code D.scores}. */
    public String scoresOut(String out) {
        return scoresOut != null ? scoresOut : scoresFor(out);
    }

    /** {@code X.jsonl} -> {@code X.scores.jsonl}; anything else (a Spark output directory) {@code D} -> {@code D.scores}. */
    public static String scoresFor(String out) {
        return out.endsWith(".jsonl") ? out.substring(0, out.length() - 6) + ".scores.jsonl" : out + ".scores";
    }

    /** The encoding: the paper's cuts to {@code maxNewTokens}, the eval's generation length, as its script does. */
    public RewardEncoding encoding(int maxNewTokens) {
        RewardEncoding.Builder b = RewardEncoding.builder().truncateToContext(truncate);
        if (paperFormat) {
            b.paper(maxNewTokens);
        }
        return b.build();
    }

    @Override
    public String toString() {
        return "ScoringPlan[" + rewardModel.model() + (paperFormat ? ", paper format" : "")
                + (truncate ? ", truncate" : "") + ", objective " + objective + ", candidates " + candidates + "]";
    }

    /** Builds a {@link ScoringPlan}. */
    public static final class Builder {
        private ModelOptions rewardModel;
        private boolean paperFormat;
        private boolean truncate;
        private String objective = "auto";
        private List<String> candidates = List.of("amulet");
        private int batch = 8;
        private String scoresOut;

        private Builder() {
        }

        /** The reward model (required). */
        public Builder rewardModel(ModelOptions v) {
            rewardModel = Objects.requireNonNull(v, "rewardModel");
            return this;
        }

        /** The paper's input format (false: the documented one). */
        public Builder paperFormat(boolean v) {
            paperFormat = v;
            return this;
        }

        /** Cut a conversation longer than the context (false: leave it out, named). */
        public Builder truncate(boolean v) {
            truncate = v;
            return this;
        }

        /** The objective ({@code auto}). */
        public Builder objective(String v) {
            objective = Objects.requireNonNull(v, "objective");
            return this;
        }

        /** The candidates ({@code amulet}). */
        public Builder candidates(List<String> v) {
            candidates = List.copyOf(v);
            return this;
        }

        /** Conversations per forward pass (8). */
        public Builder batch(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("the scoring batch must be >= 1, got " + v);
            }
            batch = v;
            return this;
        }

        /** Where the scores go (null: derived from the eval's output). */
        public Builder scoresOut(String v) {
            scoresOut = v;
            return this;
        }

        /** The plan. */
        public ScoringPlan build() {
            if (rewardModel == null) {
                throw new IllegalArgumentException("a scoring plan needs its reward model");
            }
            return new ScoringPlan(this);
        }
    }
}
