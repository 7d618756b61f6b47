package io.github.amulet4j.transformer;

import java.util.Objects;

/**
 * How a {@link DecoderLm} runs its sessions: the name messages give the checkpoint, whether streams keep a KV cache
 * (without one every step recomputes the whole prefix), the slots a new cache starts with, and the most tokens per
 * row a prefill feeds through the layers at once, and the most bytes the model's {@link PromptCache} may hold (0: no
 * prompt cache).
 */
public record DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk,
        long promptCacheBytes) {

    /** Settings without a prompt cache. */
    public DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk) {
        this(checkpointName, useKvCache, initialCacheCapacity, prefillChunk, 0);
    }

    /** Validates every field. */
    public DecoderSettings {
        Objects.requireNonNull(checkpointName, "checkpointName");
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
