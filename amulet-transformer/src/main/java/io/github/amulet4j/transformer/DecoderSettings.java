package io.github.amulet4j.transformer;

import java.util.Objects;

/**
 * How a {@link DecoderLm} runs its sessions: the name messages give the checkpoint, whether streams keep a KV cache
 * (without one every step recomputes the whole prefix), the slots a new cache starts with, and the most tokens per
 * row a prefill feeds through the layers at once, the most bytes the model's {@link PromptCache} may hold (0: no
 * prompt cache), and the precision of the KV cache's keys and values ({@link KvCachePrecision}; F16 where the
 * {@link JavaForward} pass's native attention runs, else float32 with a log line).
 */
public record DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk,
        long promptCacheBytes, KvCachePrecision kvCachePrecision) {

    /** Settings without a prompt cache. */
    public DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk) {
        this(checkpointName, useKvCache, initialCacheCapacity, prefillChunk, 0);
    }

    /** Settings with a float32 KV cache. */
    public DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk,
                           long promptCacheBytes) {
        this(checkpointName, useKvCache, initialCacheCapacity, prefillChunk, promptCacheBytes, KvCachePrecision.F32);
    }

    /** Validates every field. */
    public DecoderSettings {
        Objects.requireNonNull(checkpointName, "checkpointName");
        Objects.requireNonNull(kvCachePrecision, "kvCachePrecision");
        if (initialCacheCapacity < 1) {
            throw new IllegalArgumentException("initialCacheCapacity must be >= 1, got " + initialCacheCapacity);
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefillChunk must be >= 1, got " + prefillChunk);
        }
        if (promptCacheBytes < 0) {
            throw new IllegalArgumentException("promptCacheBytes must be >= 0 (0: no prompt cache), got "
                    + promptCacheBytes);
        }
    }
}
