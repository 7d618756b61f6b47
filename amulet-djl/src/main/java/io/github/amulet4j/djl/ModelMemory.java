package io.github.amulet4j.djl;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorLayout;

import java.util.Map;
import java.util.Objects;

/**
 * What a loaded {@link AmuletModel} holds and reads, in bytes ({@link AmuletModel#memory()}): for sizing a machine
 * and for relating decoding speed to memory bandwidth.
 *
 * @param weightBytes          bytes of the weights held, by the engine and by the Java kernels together
 * @param weightBytesPerToken  bytes of weights one decode step reads: every linear layer and the output head as
 *                             held (in the Java kernels' formats, or the compute dtype where PyTorch runs them),
 *                             norms, biases and positions; embedding tables that are only looked up are not counted
 *                             (a tied embedding is read in full as the head)
 * @param kvCacheBytesPerToken bytes the KV cache keeps per stream and position (keys and values of every layer, in
 *                             the compute dtype); 0 for a model loaded without a KV cache
 * @param javaKernels          whether the linear layers run as Java Vector API kernels (weights on the Java heap)
 *                             rather than on PyTorch
 * @param weightFormats        the formats the Java kernels hold the linear weights in ({@code F32},
 *                             {@code Q4_0+F16}, ...); empty when PyTorch runs them
 */
public record ModelMemory(long weightBytes, long weightBytesPerToken, long kvCacheBytesPerToken, boolean javaKernels,
                          String weightFormats) {

    public ModelMemory {
        Objects.requireNonNull(weightFormats, "weightFormats");
        if (weightBytes < 0 || weightBytesPerToken < 0 || kvCacheBytesPerToken < 0) {
            throw new IllegalArgumentException("byte counts must be >= 0: weights " + weightBytes + ", per token "
                    + weightBytesPerToken + ", KV cache per token " + kvCacheBytesPerToken);
        }
    }

    /** Bytes of a KV cache of {@code streams} streams with room for {@code positions} positions each. */
    public long kvCacheBytes(int streams, int positions) {
        return Math.multiplyExact(Math.multiplyExact(kvCacheBytesPerToken, (long) streams), (long) positions);
    }

    /**
     * Weight elements a decode step of {@code config}'s model reads: every tensor of the checkpoint except
     * embedding tables that are only looked up (a tied embedding is read in full as the output head).
     */
    public static long weightElementsPerToken(ModelConfig config) {
        long total = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            String n = e.getKey();
            boolean lookupOnly = n.endsWith("wpe.weight")
                    || (!config.tieWordEmbeddings() && (n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight")));
            if (lookupOnly) {
                continue;
            }
            long numel = 1;
            for (long d : e.getValue()) {
                numel *= d;
            }
            total += numel;
        }
        return total;
    }

    /** KV cache bytes per stream and position of {@code config}'s model with {@code bytesPerValue}-byte values. */
    static long kvCacheBytesPerToken(ModelConfig config, int bytesPerValue) {
        return 2L * config.numLayers() * config.numKvHeads() * config.headDim() * bytesPerValue;
    }
}
