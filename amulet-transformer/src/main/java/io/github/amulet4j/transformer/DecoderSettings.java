package io.github.amulet4j.transformer;

import java.util.Objects;

/**
 * How a {@link DecoderLm} runs its sessions: the name messages give the checkpoint, whether streams keep a KV cache
 * (without one every step recomputes the whole prefix), the slots a new cache starts with, and the most tokens per
 * row a prefill feeds through the layers at once.
 */
public record DecoderSettings(String checkpointName, boolean useKvCache, int initialCacheCapacity, int prefillChunk) {

    /** Validates every field. */
    public DecoderSettings {
        Objects.requireNonNull(checkpointName, "checkpointName");
        if (initialCacheCapacity < 1) {
            throw new IllegalArgumentException("initialCacheCapacity must be >= 1, got " + initialCacheCapacity);
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefillChunk must be >= 1, got " + prefillChunk);
        }
    }
}
