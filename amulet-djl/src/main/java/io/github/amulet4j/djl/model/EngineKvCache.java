package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.KvCache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A {@link KvCache} on the engine (for {@link TransformerForward}): keys and values of every layer preallocated as
 * {@code [batch, kvHeads, capacity, headDim]} engine arrays per layer and written in place. The arrays belong to the
 * manager given at construction.
 */
final class EngineKvCache implements KvCache {

    private final NDManager manager;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final DataType type;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int batch;
    private int capacity;
    private int used;

    EngineKvCache(NDManager manager, int layers, int batch, int kvHeads, int headDim, int capacity, DataType type) {
        this.manager = manager;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.type = type;
        this.batch = batch;
        this.capacity = Math.max(1, capacity);
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = allocate(batch, this.capacity);
            values[l] = allocate(batch, this.capacity);
        }
    }

    @Override
    public int used() {
        return used;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void reserve(int extra) {
        int newCapacity = KvCache.grownCapacity(used, capacity, extra);
        if (newCapacity == capacity) {
            return;
        }
        for (int l = 0; l < layers; l++) {
            keys[l] = regrow(keys[l], newCapacity);
            values[l] = regrow(values[l], newCapacity);
        }
        capacity = newCapacity;
    }

    /** Writes {@code k}, {@code v} ({@code [batch, kvHeads, T, headDim]}) at slots {@code [used, used + T)}. */
    void write(int layer, NDArray k, NDArray v) {
        long t = k.getShape().get(2);
        NDIndex at = new NDIndex(":, :, {}:{}", used, used + t);
        keys[layer].set(at, k);
        values[layer].set(at, v);
    }

    /** Keys of slots {@code [0, upTo)}: a view, valid until the cache grows. */
    NDArray keys(int layer, int upTo) {
        return keys[layer].get(new NDIndex(":, :, 0:{}", upTo));
    }

    /** Values of slots {@code [0, upTo)}: a view, valid until the cache grows. */
    NDArray values(int layer, int upTo) {
        return values[layer].get(new NDIndex(":, :, 0:{}", upTo));
    }

    @Override
    public void advance(int t) {
        used += t;
    }

    @Override
    public void select(int[] sources, int shift) {
        int newUsed = used - shift;
        try (NDManager tmp = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray index = tmp.create(toLong(sources));
            for (int l = 0; l < layers; l++) {
                keys[l] = reorder(keys[l], index, shift, newUsed, sources.length);
                values[l] = reorder(values[l], index, shift, newUsed, sources.length);
            }
        }
        batch = sources.length;
        used = newUsed;
    }

    @Override
    public int[] absorb(KvCache cache) {
        EngineKvCache other = (EngineKvCache) cache;
        int mineUsed = batch == 0 ? 0 : used;
        int theirsUsed = other.batch == 0 ? 0 : other.used;
        int newUsed = Math.max(mineUsed, theirsUsed);
        int newCapacity = capacity;
        while (newCapacity < newUsed) {
            newCapacity *= 2;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (int l = 0; l < layers; l++) {
                keys[l] = merge(keys[l], mineUsed, other.keys[l], other.batch, theirsUsed, newUsed, newCapacity);
                values[l] = merge(values[l], mineUsed, other.values[l], other.batch, theirsUsed, newUsed, newCapacity);
            }
        }
        batch += other.batch;
        capacity = newCapacity;
        used = newUsed;
        return new int[] {newUsed - mineUsed, newUsed - theirsUsed};
    }

    private NDArray merge(NDArray mine, int mineUsed, NDArray theirs, int theirBatch, int theirsUsed, int newUsed,
            int newCapacity) {
        NDArray fresh = allocate(batch + theirBatch, newCapacity);
        try (NDManager tmp = manager.newSubManager()) {
            if (batch > 0 && mineUsed > 0) {
                NDArray rows = mine.get(tmp, new NDIndex(":, :, 0:{}", mineUsed));
                fresh.set(new NDIndex("0:{}, :, {}:{}", batch, newUsed - mineUsed, newUsed), rows);
            }
            if (theirBatch > 0 && theirsUsed > 0) {
                NDArray rows = theirs.get(tmp, new NDIndex(":, :, 0:{}", theirsUsed));
                fresh.set(new NDIndex("{}:{}, :, {}:{}", batch, batch + theirBatch, newUsed - theirsUsed, newUsed),
                        rows);
            }
        }
        mine.close();
        return fresh;
    }

    private NDArray reorder(NDArray old, NDArray index, int shift, int newUsed, int newBatch) {
        NDArray fresh = allocate(newBatch, capacity);
        if (newBatch > 0 && newUsed > 0) {
            try (NDManager tmp = manager.newSubManager()) {
                NDArray rows = old.get(tmp, new NDIndex("{}, :, {}:{}", index, shift, shift + newUsed));
                fresh.set(new NDIndex(":, :, 0:{}", newUsed), rows);
            }
        }
        old.close();
        return fresh;
    }

    private NDArray regrow(NDArray old, int newCapacity) {
        NDArray fresh = allocate(batch, newCapacity);
        if (used > 0 && batch > 0) {
            try (NDManager tmp = manager.newSubManager()) {
                NDArray part = old.get(tmp, new NDIndex(":, :, 0:{}", used));
                fresh.set(new NDIndex(":, :, 0:{}", used), part);
            }
        }
        old.close();
        return fresh;
    }

    private NDArray allocate(int rows, int slots) {
        NDArray a = manager.zeros(new Shape(rows, kvHeads, slots, headDim), type);
        NDScope.unregister(a);
        return a;
    }

    private static long[] toLong(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    @Override
    public long bytes() {
        return 2L * layers * batch * kvHeads * capacity * headDim * type.getNumOfBytes();
    }

    /** Frees the keys and values, and the manager this cache owns. */
    @Override
    public void close() {
        for (int l = 0; l < layers; l++) {
            if (keys[l] != null) {
                keys[l].close();
                values[l].close();
            }
        }
        manager.close();
    }
}
