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
     * Appends {@code tokens[i]} (every row of the same length, at least 1) to stream {@code i}; afterwards
     * {@link #logits()} holds each stream's last position. Continuous batching prefills a long prompt this way,
     * one chunk between two decoding steps. The default appends one column at a time; a backend overrides it
     * with one forward pass over all the new positions.
     *
     * @throws IllegalArgumentException if {@code tokens.length != streams()}, the rows differ in length or are
     *                                  empty, or a stream would exceed the model's positions
     */
    default void extend(int[][] tokens) {
        if (tokens.length != streams()) {
            throw new IllegalArgumentException("extend needs one row per stream: got " + tokens.length
                    + " rows for " + streams() + " streams");
        }
        int t = tokens.length == 0 ? 0 : tokens[0].length;
        for (int[] row : tokens) {
            if (row.length != t || t == 0) {
                throw new IllegalArgumentException("extend needs rows of one length >= 1");
            }
        }
        for (int j = 0; j < t; j++) {
            int[] column = new int[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                column[i] = tokens[i][j];
            }
            append(column);
        }
    }

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

    /**
     * Prompt tokens of stream {@code stream} that the prefill restored from a prefix cache instead of running them
     * (0 without a cache, or for a stream that did not come from a prefill).
     */
    default int reusedPromptTokens(int stream) {
        return 0;
    }
}
