package io.github.amulet4j.djl;

import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;

import java.util.Objects;
import java.util.Optional;

/**
 * One request to an {@link AmuletModel}: a conversation, the preference, how the preference enters the
 * prompt, and optionally its own {@link GenerationConfig} (method, hyperparameters, decoding). Requests of
 * one batch may differ in all of these. Immutable; build with {@link #builder(String)} or
 * {@link #builder(Conversation)}.
 */
public final class AmuletRequest {

    private final Conversation conversation;
    private final Preference preference;
    private final PromptStyle promptStyle;
    private final GenerationConfig config;

    private AmuletRequest(Builder b) {
        b.conversation.requireUserLast();
        this.conversation = b.conversation;
        this.preference = b.preference;
        this.promptStyle = b.promptStyle;
        this.config = b.config;
    }

    /** A request for one question with {@code preference} and the model's default configuration. */
    public static AmuletRequest of(String question, Preference preference) {
        return builder(question).preference(preference).build();
    }

    /** A builder for one question. */
    public static Builder builder(String question) {
        return new Builder(Conversation.of(question));
    }

    /** A builder for a conversation (it must end with a user turn). */
    public static Builder builder(Conversation conversation) {
        return new Builder(Objects.requireNonNull(conversation, "conversation"));
    }

    public Conversation conversation() {
        return conversation;
    }

    /** The preference; empty only for requests decoded with {@code base}, which need none. */
    public Optional<Preference> preference() {
        return Optional.ofNullable(preference);
    }

    public PromptStyle promptStyle() {
        return promptStyle;
    }

    /** The request's own configuration; empty means the model's default ({@link GenerationConfig#defaults()}). */
    public Optional<GenerationConfig> config() {
        return Optional.ofNullable(config);
    }

    /** Builder of {@link AmuletRequest}. */
    public static final class Builder {
        private final Conversation conversation;
        private Preference preference;
        private PromptStyle promptStyle = PromptStyle.DEFAULT;
        private GenerationConfig config;

        private Builder(Conversation conversation) {
            this.conversation = conversation;
        }

        /** The preference (null only for the {@code base} method). */
        public Builder preference(Preference preference) {
            this.preference = preference;
            return this;
        }

        /** A preset name or free text. */
        public Builder preference(String presetOrText) {
            this.preference = Preference.of(presetOrText);
            return this;
        }

        public Builder promptStyle(PromptStyle style) {
            this.promptStyle = Objects.requireNonNull(style, "promptStyle");
            return this;
        }

        /** This request's configuration (null: the model's default). */
        public Builder config(GenerationConfig config) {
            this.config = config;
            return this;
        }

        /** @throws IllegalArgumentException when the conversation does not end with a user turn */
        public AmuletRequest build() {
            return new AmuletRequest(this);
        }
    }
}
