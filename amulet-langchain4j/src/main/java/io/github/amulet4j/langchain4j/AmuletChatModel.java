package io.github.amulet4j.langchain4j;

import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.PromptStyle;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A LangChain4j {@link ChatModel} over an {@link AmuletBatcher}: concurrent calls share the batcher's
 * forward passes. The preference and method come from {@link AmuletChatRequestParameters} (the model's
 * defaults, overridden per request); token usage and finish reason are filled in.
 *
 * <pre>{@code
 * try (AmuletModel model = AmuletModel.load(ModelOptions.of("Qwen/Qwen2.5-0.5B-Instruct"));
 *      AmuletBatcher batcher = model.batcher(BatchingOptions.defaults())) {
 *     ChatModel chat = AmuletChatModel.builder(batcher)
 *             .defaultRequestParameters(AmuletChatRequestParameters.builder().preference("concise").build())
 *             .build();
 *     String answer = chat.chat("What is the ozone layer?");
 * }
 * }</pre>
 *
 * Needs {@code dev.langchain4j:langchain4j-core} on the class path (an optional dependency of amulet-djl).
 */
public final class AmuletChatModel implements ChatModel {

    private final AmuletBatcher batcher;
    private final AmuletChatRequestParameters defaults;
    private final GenerationConfig generation;
    private final PromptStyle promptStyle;

    private AmuletChatModel(Builder b) {
        this.batcher = Objects.requireNonNull(b.batcher, "batcher");
        this.defaults = b.defaults == null ? AmuletChatRequestParameters.builder().build() : b.defaults;
        this.generation = Objects.requireNonNull(b.generation, "generation");
        this.promptStyle = Objects.requireNonNull(b.promptStyle, "promptStyle");
    }

    public static Builder builder(AmuletBatcher batcher) {
        return new Builder(batcher);
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /**
     * @throws IllegalArgumentException for what Amulet cannot do (tools, JSON formats, non-text content) or
     *                                  a method without the preference it needs
     * @throws RuntimeException         when generation fails or the batcher refuses the request (full queue)
     */
    @Override
    public ChatResponse doChat(ChatRequest request) {
        CompletableFuture<GenerationResult> f = batcher.submit(
                ChatConversion.toAmulet(request, generation, promptStyle), TokenListener.NONE);
        try {
            return ChatConversion.response(f.get(), batcher.model().name());
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Builder of {@link AmuletChatModel}. */
    public static final class Builder {
        private final AmuletBatcher batcher;
        private AmuletChatRequestParameters defaults;
        private GenerationConfig generation = GenerationConfig.defaults();
        private PromptStyle promptStyle = PromptStyle.DEFAULT;

        private Builder(AmuletBatcher batcher) {
            this.batcher = batcher;
        }

        /** Defaults of every request: preference, method, temperature, max output tokens, ... */
        public Builder defaultRequestParameters(AmuletChatRequestParameters defaults) {
            this.defaults = defaults;
            return this;
        }

        /**
         * What the LangChain4j parameters do not set: Amulet's hyperparameters, the {@code la} ratio, beams,
         * default decoding and length (the paper's defaults).
         */
        public Builder generationConfig(GenerationConfig generation) {
            this.generation = generation;
            return this;
        }

        public Builder promptStyle(PromptStyle promptStyle) {
            this.promptStyle = promptStyle;
            return this;
        }

        public AmuletChatModel build() {
            return new AmuletChatModel(this);
        }
    }
}
