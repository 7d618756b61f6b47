package io.github.amulet4j.transformer;

/**
 * One forward pass of the decoder over a left-padded batch, reading and extending a {@link KvCache} of its own kind,
 * in chunks of tokens: the backend SPI of {@link DecoderLm}. Implementations: {@link JavaForward} (everything on
 * float arrays with the Java Vector API, in this module) and amulet-djl's PyTorch pass (GPUs, float16, the engine
 * kernel), which manages its engine memory itself.
 */
public interface ForwardPass extends AutoCloseable {

    /**
     * Runs {@code tokens} ({@code [B][T]}, rows already left-padded to the same T) at cache slots
     * {@code [cache.used(), cache.used() + T)}, then advances the cache; writes the last position's float32 logits
     * of every row to {@code last} ({@code [B, vocab]}, row-major).
     *
     * @param pad   per row, the number of padding slots at the start of the whole sequence
     * @param chunk most tokens per row fed through the layers at once ({@link DecoderSettings#prefillChunk()})
     */
    void run(int[][] tokens, int[] pad, KvCache cache, int chunk, float[] last);

    /**
     * As {@link #run}, writing the logits of every position to {@code every} ({@code [B * T][vocab]}, row
     * {@code r * T + j}) instead of the last ones.
     */
    void runAll(int[][] tokens, int[] pad, KvCache cache, int chunk, float[][] every);

    /** A cache of this pass's kind with room for {@code capacity} slots of {@code batch} rows (closed by its user). */
    KvCache newCache(int batch, int capacity);

    /** Floats of one position's output: the vocabulary for a language-model head, the labels for a classifier's. */
    int logitsWidth();

    /** Time spent copying logits from an engine into Java arrays (0 when they are computed into them). */
    long copyNanos();

    /** What the weights take and where ({@link DecoderLm#weightBytes()}, ...). */
    WeightFootprint footprint();

    /** Frees the pass's threads and weights. */
    @Override
    void close();
}
