package io.github.amulet4j.djl;

import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.ContinuousBatcher;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * Continuous batching over an {@link AmuletModel} (from {@link AmuletModel#batcher(BatchingOptions)}): one
 * decoding thread owns the model, and requests submitted from any thread join its running batch between
 * two steps, each with its own conversation, preference, method and sampling settings, so concurrent users
 * share every forward pass. A request's tokens are those {@link AmuletModel#generate(AmuletRequest,
 * TokenListener)} gives it alone. Thread-safe; see {@link ContinuousBatcher} for the details.
 *
 * <pre>{@code
 * try (AmuletBatcher batcher = model.batcher(BatchingOptions.defaults())) {
 *     CompletableFuture<GenerationResult> r = batcher.submit(
 *             AmuletRequest.builder("Why is the sky blue?").preference("concise").build(),
 *             (request, tokenId, text) -> System.out.print(text));
 *     r.join();
 * }
 * }</pre>
 */
public final class AmuletBatcher implements AutoCloseable {

    private final AmuletModel model;
    private final ContinuousBatcher batcher;

    AmuletBatcher(AmuletModel model, ContinuousBatcher batcher) {
        this.model = model;
        this.batcher = batcher;
    }

    /** The model this batcher decodes with. */
    public AmuletModel model() {
        return model;
    }

    /**
     * Checks that the queue has room, then renders the request's prompts (on the calling thread) and queues
     * it. Tokens reach {@code listener} on
     * the decoding thread (request index 0): keep it quick. Cancel the future to stop the request; its
     * streams leave the batch at the next step.
     *
     * @throws IllegalArgumentException   when the method needs a preference the request lacks
     * @throws io.github.amulet4j.generate.PromptTooLongException when a prompt is longer than the model's
     *                                    context (the message names both lengths)
     * @throws io.github.amulet4j.generate.QueueFullException when {@code maxQueue} requests wait already
     * @throws RejectedExecutionException when the batcher is closed
     */
    public CompletableFuture<GenerationResult> submit(AmuletRequest request, TokenListener listener) {
        Objects.requireNonNull(request, "request");
        batcher.checkAdmission(); // a full queue refuses before the prompts are rendered and tokenized
        GenerationRequest g = model.toGenerationRequest(request, 0);
        return batcher.submit(g, listener);
    }

    /** The batching limits. */
    public BatchingOptions options() {
        return batcher.options();
    }

    /** Requests decoding now. */
    public int runningRequests() {
        return batcher.runningRequests();
    }

    /** Streams decoding now. */
    public int runningStreams() {
        return batcher.runningStreams();
    }

    /** Requests waiting for room in the batch. */
    public int queuedRequests() {
        return batcher.queuedRequests();
    }

    /** Decoding steps run so far. */
    public long steps() {
        return batcher.steps();
    }

    /** Stops decoding (running and waiting requests fail); the model stays open. */
    @Override
    public void close() {
        batcher.close();
    }
}
