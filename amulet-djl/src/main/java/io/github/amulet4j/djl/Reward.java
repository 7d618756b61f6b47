package io.github.amulet4j.djl;

/**
 * What a {@link RewardModel} gives one conversation: the head's output per label (objective), the score (the only
 * output of a single-label model, ArmoRM's gated score; NaN for another multi-label head, whose outputs are read by
 * label), and the tokens it read.
 *
 * @param rewards one value per label of the reward model's head
 * @param score   {@code rewards[0]} for a single-label model, the gated score for ArmoRM, NaN otherwise
 * @param tokens  tokens of the conversation as the reward model read it
 */
public record Reward(float[] rewards, float score, int tokens) {

    /** Copies the rewards. */
    public Reward {
        rewards = rewards.clone();
    }

    /** The rewards (a copy). */
    @Override
    public float[] rewards() {
        return rewards.clone();
    }

    /** The output of label {@code objective}. */
    public float reward(int objective) {
        if (objective < 0 || objective >= rewards.length) {
            throw new IllegalArgumentException("objective " + objective + " outside [0, " + rewards.length + ")");
        }
        return rewards[objective];
    }
}
