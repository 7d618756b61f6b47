package io.github.amulet4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.PromptStyle;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A LangChain4j {@link StreamingChatModel} over an {@link AmuletBatcher}: text reaches
 * {@link StreamingChatResponseHandler#onPartialResponse} as tokens are chosen, then
 * {@code onCompleteResponse} with the whole answer, token usage and finish reason. The handler runs on
 * an executor (in order for each request), never on the decoding thread, so a slow handler does not stall
 * the batch; {@code PartialResponseContext.streamingHandle().cancel()} stops the request (its streams
 * leave the batch at the next step). Preference and method: {@link AmuletChatRequestParameters}.
 *
 * Needs {@code dev.langchain4j:langchain4j-core} on the class path (an optional dependency of amulet-djl).
 */
public final class AmuletStreamingChatModel implements StreamingChatModel {

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final Executor DEFAULT_EXECUTOR = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "amulet-langchain4j-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private final AmuletBatcher batcher;
    private final AmuletChatRequestParameters defaults;
    private final GenerationConfig generation;
    private final PromptStyle promptStyle;
    private final Executor executor;

    private AmuletStreamingChatModel(Builder b) {
        this.batcher = Objects.requireNonNull(b.batcher, "batcher");
        this.defaults = b.defaults == null ? AmuletChatRequestParameters.builder().build() : b.defaults;
        this.generation = Objects.requireNonNull(b.generation, "generation");
        this.promptStyle = Objects.requireNonNull(b.promptStyle, "promptStyle");
        this.executor = Objects.requireNonNull(b.executor, "executor");
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

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        AmuletRequest amulet;
        try {
            amulet = ChatConversion.toAmulet(request, generation, promptStyle);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        CompletableFuture<GenerationResult>[] result = new CompletableFuture[1];
        StreamingHandle handle = new StreamingHandle() {
            @Override
            public void cancel() {
                if (result[0] != null) {
                    result[0].cancel(true);
                }
            }

            @Override
            public boolean isCancelled() {
                return result[0] != null && result[0].isCancelled();
            }
        };
        PartialResponseContext context = new PartialResponseContext(handle);
        // each request's callbacks run one after another, in order, on the executor
        CompletableFuture<?>[] chain = {CompletableFuture.completedFuture(null)};
        try {
            result[0] = batcher.submit(amulet, (r, tokenId, delta) -> {
                if (!delta.isEmpty()) {
                    chain[0] = chain[0].thenRunAsync(() -> {
                        if (!handle.isCancelled()) {
                            handler.onPartialResponse(new PartialResponse(delta), context);
                        }
                    }, executor);
                }
            });
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        result[0].whenComplete((r, e) -> chain[0] = chain[0].thenRunAsync(() -> {
            if (e == null) {
                handler.onCompleteResponse(ChatConversion.response(r, batcher.model().name()));
            } else if (!handle.isCancelled()) {
                handler.onError(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
        }, executor));
    }

    /** Builder of {@link AmuletStreamingChatModel}. */
    public static final class Builder {
        private final AmuletBatcher batcher;
        private AmuletChatRequestParameters defaults;
        private GenerationConfig generation = GenerationConfig.defaults();
        private PromptStyle promptStyle = PromptStyle.DEFAULT;
        private Executor executor = DEFAULT_EXECUTOR;

        private Builder(AmuletBatcher batcher) {
            this.batcher = batcher;
        }

        /** Defaults of every request: preference, method, temperature, max output tokens, ... */
        public Builder defaultRequestParameters(AmuletChatRequestParameters defaults) {
            this.defaults = defaults;
            return this;
        }

        /** What the LangChain4j parameters do not set (Amulet's hyperparameters, ratio, beams, default decoding). */
        public Builder generationConfig(GenerationConfig generation) {
            this.generation = generation;
            return this;
        }

        public Builder promptStyle(PromptStyle promptStyle) {
            this.promptStyle = promptStyle;
            return this;
        }

        /** Where the handler's callbacks run (default: a shared pool of daemon threads). */
        public Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        public AmuletStreamingChatModel build() {
            return new AmuletStreamingChatModel(this);
        }
    }
}
