package io.github.amulet4j.backend;

/**
 * The live state of a batch of streams in a {@link CausalLm}: one KV cache per stream and the
 * last-position logits of each. Rows of {@link #logits()} are streams, in order.
 */
public interface DecodingSession extends AutoCloseable {

    /** Number of live streams. */
    int streams();

    /** Last-position logits of every live stream, {@code [streams, vocab]}. Valid until the next call that changes the session. */
    Logits logits();

    /**
     * Appends {@code tokens[i]} to stream {@code i} and runs one batched forward pass for all streams.
     *
     * @throws IllegalArgumentException if {@code tokens.length != streams()} or a stream would exceed the model's positions
     */
    void append(int[] tokens);

    /**
     * Rebuilds the batch from existing streams: new stream {@code j} is a copy of old stream
     * {@code sources[j]} (cache and logits). Indices may repeat (beam search copies a beam) or be left out
     * (a finished request leaves the batch).
     */
    void select(int[] sources);

    /**
     * Moves every stream of {@code other} (a session of the same model, e.g. the prefill of requests that
     * arrive while this session decodes) to the end of this session, caches and logits included, and
     * closes {@code other}: old stream {@code j} of {@code other} becomes stream {@code streams() + j}.
     * Continuous batching joins newcomers to the running batch this way.
     *
     * @throws UnsupportedOperationException if the backend cannot merge sessions (the default)
     * @throws IllegalArgumentException if {@code other} is this session or belongs to another model
     */
    default void absorb(DecodingSession other) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot merge decoding sessions");
    }

    /** Number of positions (prompt plus appended tokens, padding excluded) of stream {@code i}. */
    int length(int stream);

    /** Releases this session's caches. */
    @Override
    void close();
}
