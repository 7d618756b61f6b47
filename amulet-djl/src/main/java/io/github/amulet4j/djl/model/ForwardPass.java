package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDManager;

/**
 * One forward pass of the decoder over a left-padded batch, reading and extending a {@link KvCache} of its own kind,
 * in chunks of tokens. Two implementations: {@link JavaForward} (everything on float arrays with the Java Vector API,
 * used whenever the linear weights are held for the Java kernels) and {@link TransformerForward} (PyTorch through
 * DJL: {@code linearKernel ENGINE}, float16/bfloat16 compute, GPUs).
 */
interface ForwardPass {

    /**
     * Runs {@code tokens} ({@code [B][T]}, rows already left-padded to the same T) at cache slots
     * {@code [cache.used(), cache.used() + T)}, then advances the cache; writes the last position's float32 logits
     * of every row to {@code last} ({@code [B, vocab]}, row-major).
     *
     * @param step  the manager for the engine's temporaries of this call (closed by the caller)
     * @param pad   per row, the number of padding slots at the start of the whole sequence
     * @param chunk most tokens per row fed through the layers at once (see {@link RuntimeOptions#prefillChunk()})
     */
    void run(NDManager step, int[][] tokens, int[] pad, KvCache cache, int chunk, float[] last);

    /**
     * As {@link #run}, writing the logits of every position to {@code every} ({@code [B * T][vocab]}, row
     * {@code r * T + j}) instead of the last ones.
     */
    void runAll(NDManager step, int[][] tokens, int[] pad, KvCache cache, int chunk, float[][] every);

    /** A cache of this pass's kind with room for {@code capacity} slots of {@code batch} rows. */
    KvCache newCache(NDManager owner, int batch, int capacity);

    /** Most bytes of float32 attention scores for one block of queries (tests lower it to force many blocks). */
    void attentionBlockBytes(long bytes);

    /**
     * A callback run where the pass's temporaries peak (scores live, a layer or chunk just done, products in flight);
     * for memory tests. {@link #heapBytesHeld()} says what the Java heap holds then.
     */
    void probe(Runnable probe);

    /** Bytes of Java arrays the pass holds now (its scratch arrays, and the Java cache it is running on). */
    long heapBytesHeld();

    /** Time spent copying logits from the engine into Java arrays, for {@link DjlCausalLm#logitsCopyNanos()}. */
    long copyNanos();
}
