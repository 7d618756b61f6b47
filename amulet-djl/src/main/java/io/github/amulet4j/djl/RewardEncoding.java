package io.github.amulet4j.djl;

/**
 * How a {@link RewardModel} turns a conversation into the tokens it reads. Immutable; built with {@link #builder()}.
 *
 * <ul>
 *   <li>{@link Style#DOCUMENTED} (the default): as the reward model's own documentation calls it,
 *       {@code apply_chat_template(messages)} tokenized directly, so the template's BOS is the only one and nothing
 *       is cut.</li>
 *   <li>{@link Style#PAPER}: as the Amulet paper's {@code evals/rm_evals.py} does, the template rendered to text
 *       ({@code tokenize=False}) and that text tokenized again with special tokens ({@code add_special_tokens=True}),
 *       so a tokenizer whose post-processor prepends BOS (Llama 3's, ArmoRM's) gives it twice; then cut to the first
 *       {@link #maxTokens()} tokens ({@code truncation=True, max_length=max_new_tokens}).</li>
 * </ul>
 *
 * <p>A conversation still longer than the reward model's context is refused unless {@link #truncateToContext()},
 * when it is cut to the context (its first tokens kept) and marked {@link RewardTokens#truncated()}.
 */
public final class RewardEncoding {

    /** Where the tokens come from. */
    public enum Style {
        /** The reward model's documented use: the chat template tokenized once. */
        DOCUMENTED,
        /** The paper's script: the rendered text tokenized again with special tokens, cut to a length. */
        PAPER
    }

    private static final RewardEncoding DEFAULT = builder().build();

    private final Style style;
    private final int maxTokens;
    private final boolean truncateToContext;

    private RewardEncoding(Builder b) {
        this.style = b.style;
        this.maxTokens = b.maxTokens;
        this.truncateToContext = b.truncateToContext;
    }

    /** The documented encoding, refusing a conversation longer than the context. */
    public static RewardEncoding documented() {
        return DEFAULT;
    }

    /** The paper's encoding, cut to {@code maxTokens} tokens (its {@code max_new_tokens}). */
    public static RewardEncoding paper(int maxTokens) {
        return builder().paper(maxTokens).build();
    }

    /** A builder of the documented encoding. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this encoding's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.style = style;
        b.maxTokens = maxTokens;
        b.truncateToContext = truncateToContext;
        return b;
    }

    /** Where the tokens come from. */
    public Style style() {
        return style;
    }

    /** {@link Style#PAPER}: the most tokens read (the paper's {@code max_new_tokens}); 0 for the documented style. */
    public int maxTokens() {
        return maxTokens;
    }

    /** Whether a conversation longer than the reward model's context is cut to it instead of refused. */
    public boolean truncateToContext() {
        return truncateToContext;
    }

    @Override
    public String toString() {
        return (style == Style.PAPER ? "paper (max " + maxTokens + " tokens)" : "documented")
                + (truncateToContext ? ", truncated to the context" : "");
    }

    /** Builds a {@link RewardEncoding}. */
    public static final class Builder {
        private Style style = Style.DOCUMENTED;
        private int maxTokens;
        private boolean truncateToContext;

        private Builder() {
        }

        /** The paper's style, cut to {@code maxTokens} tokens. */
        public Builder paper(int maxTokens) {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("the paper format's maxTokens must be >= 1, got " + maxTokens);
            }
            this.style = Style.PAPER;
            this.maxTokens = maxTokens;
            return this;
        }

        /** The documented style (the default). */
        public Builder documented() {
            this.style = Style.DOCUMENTED;
            this.maxTokens = 0;
            return this;
        }

        /** Cut a conversation longer than the context to it instead of refusing it (false). */
        public Builder truncateToContext(boolean v) {
            this.truncateToContext = v;
            return this;
        }

        /** The encoding. */
        public RewardEncoding build() {
            return new RewardEncoding(this);
        }
    }
}
