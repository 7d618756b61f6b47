package io.github.amulet4j.transformer.weights;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a model's weights are cached as the native kernels hold them ({@link WeightSlabs#cached}): a folder, and the
 * most bytes its cache files may take together (the least recently used are deleted past it).
 *
 * @param dir      the folder (made where missing)
 * @param maxBytes the most bytes of cache files kept in it
 */
public record WeightCache(Path dir, long maxBytes) {

    /** The default bound on a cache folder: 32 GiB. */
    public static final long DEFAULT_MAX_BYTES = 32L << 30;

    /** @throws IllegalArgumentException for a bound that is not positive */
    public WeightCache {
        Objects.requireNonNull(dir, "dir");
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("a weight cache's maxBytes must be positive, got " + maxBytes);
        }
    }

    /** A cache in {@code dir} bounded by {@link #DEFAULT_MAX_BYTES}. */
    public static WeightCache in(Path dir) {
        return new WeightCache(dir, DEFAULT_MAX_BYTES);
    }
}
