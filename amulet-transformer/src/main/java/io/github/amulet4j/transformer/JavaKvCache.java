package io.github.amulet4j.transformer;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@link KvCache} in Java arrays, for {@link JavaForward}. Per layer, row and key head, keys are held in tiles of
 * {@link #TILE} slots, each tile transposed, {@code [capacity / TILE][headDim][TILE]} ({@link #keyIndex}): the scores
 * of a query for a tile of slots are multiply-adds of whole vectors over the head dimension, summed in registers
 * (no horizontal sums), reading one contiguous tile. Values are {@code [capacity][headDim]}, so that the weighted sum
 * of the values is vectorized over the head dimension. float32 throughout; the key arrays are rounded up to whole
 * tiles.
 *
 * <p>Heap arrays rather than direct buffers: {@code FloatVector.fromArray} is the Vector API's cheapest load in JDK 17
 * (buffer loads add byte-order and scope checks), the arrays of one key head are contiguous, and a cache is
 * at most a few GiB for the models this runs on the CPU, well within the launcher's heap.
 */
final class JavaKvCache implements KvCache {

    /** Slots per key tile: one vector of the Vector API's preferred float species. */
    static final int TILE = VectorOps.S.length();

    private final int layers;
    private final int kvHeads;
    private final int headDim;
    /** {@code keys[layer][row * kvHeads + head]}: tiles of {@link #TILE} slots, see {@link #keyIndex}. */
    private float[][][] keys;
    /** {@code values[layer][row * kvHeads + head]}: {@code [capacity][headDim]}. */
    private float[][][] values;
    private int batch;
    private int capacity;
    private int used;

    JavaKvCache(int layers, int batch, int kvHeads, int headDim, int capacity) {
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.batch = batch;
        this.capacity = Math.max(1, capacity);
        Math.multiplyExact(headDim, this.capacity); // one head's keys must fit one array
        this.keys = allocate(batch, tiled(this.capacity));
        this.values = allocate(batch, this.capacity);
    }

    /** Slots rounded up to whole tiles. */
    private static int tiled(int slots) {
        return Math.multiplyExact((slots + TILE - 1) / TILE, TILE);
    }

    /** Where the key of {@code slot}, dimension {@code d}, lies in a key array of a head with {@code headDim}. */
    static int keyIndex(int slot, int d, int headDim) {
        return ((slot / TILE) * headDim + d) * TILE + slot % TILE;
    }

    private float[][][] allocate(int rows, int slots) {
        float[][][] a = new float[layers][rows * kvHeads][];
        int size = Math.multiplyExact(headDim, slots);
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < a[l].length; i++) {
                a[l][i] = new float[size];
            }
        }
        return a;
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

    int kvHeads() {
        return kvHeads;
    }

    /** Keys of {@code layer}, row {@code row}, key head {@code head}, in tiles ({@link #keyIndex}). */
    float[] keys(int layer, int row, int head) {
        return keys[layer][row * kvHeads + head];
    }

    /** Values of {@code layer}, row {@code row}, key head {@code head}: {@code [capacity()][headDim]}. */
    float[] values(int layer, int row, int head) {
        return values[layer][row * kvHeads + head];
    }

    @Override
    public void reserve(int extra) {
        int newCapacity = KvCache.grownCapacity(used, capacity, extra);
        if (newCapacity == capacity) {
            return;
        }
        int keySize = Math.multiplyExact(headDim, tiled(newCapacity));
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < batch * kvHeads; i++) {
                // tiles do not depend on the capacity: the used ones are copied as they are
                float[] k = new float[keySize];
                System.arraycopy(keys[l][i], 0, k, 0, Math.min(keys[l][i].length, tiled(used) * headDim));
                keys[l][i] = k;
                float[] v = new float[headDim * newCapacity];
                System.arraycopy(values[l][i], 0, v, 0, used * headDim);
                values[l][i] = v;
            }
        }
        capacity = newCapacity;
    }

    @Override
    public void advance(int t) {
        used += t;
    }

    @Override
    public void select(int[] sources, int shift) {
        int newUsed = used - shift;
        int n = sources.length;
        float[][][] newKeys = new float[layers][n * kvHeads][];
        float[][][] newValues = new float[layers][n * kvHeads][];
        for (int l = 0; l < layers; l++) {
            for (int j = 0; j < n; j++) {
                for (int h = 0; h < kvHeads; h++) {
                    int from = sources[j] * kvHeads + h;
                    int to = j * kvHeads + h;
                    newKeys[l][to] = copyKeys(keys[l][from], shift, newUsed, capacity, 0);
                    newValues[l][to] = copyValues(values[l][from], shift, newUsed, capacity, 0);
                }
            }
        }
        keys = newKeys;
        values = newValues;
        batch = n;
        used = newUsed;
    }

    @Override
    public int[] absorb(KvCache cache) {
        JavaKvCache other = (JavaKvCache) cache;
        int mineUsed = batch == 0 ? 0 : used;
        int theirsUsed = other.batch == 0 ? 0 : other.used;
        int newUsed = Math.max(mineUsed, theirsUsed);
        int newCapacity = capacity;
        while (newCapacity < newUsed) {
            newCapacity = Math.multiplyExact(newCapacity, 2);
        }
        Math.multiplyExact(headDim, tiled(newCapacity));
        int n = batch + other.batch;
        float[][][] newKeys = new float[layers][n * kvHeads][];
        float[][][] newValues = new float[layers][n * kvHeads][];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < batch * kvHeads; i++) {
                newKeys[l][i] = copyKeys(keys[l][i], 0, mineUsed, newCapacity, newUsed - mineUsed);
                newValues[l][i] = copyValues(values[l][i], 0, mineUsed, newCapacity, newUsed - mineUsed);
            }
            for (int i = 0; i < other.batch * kvHeads; i++) {
                int to = batch * kvHeads + i;
                newKeys[l][to] = copyKeys(other.keys[l][i], 0, theirsUsed, newCapacity, newUsed - theirsUsed);
                newValues[l][to] = copyValues(other.values[l][i], 0, theirsUsed, newCapacity, newUsed - theirsUsed);
            }
        }
        keys = newKeys;
        values = newValues;
        batch = n;
        capacity = newCapacity;
        used = newUsed;
        return new int[] {newUsed - mineUsed, newUsed - theirsUsed};
    }

    /** Slots {@code [from, from + count)} of tiled keys into a fresh array at slot {@code at}. */
    private float[] copyKeys(float[] old, int from, int count, int newCapacity, int at) {
        float[] k = new float[headDim * tiled(newCapacity)];
        if (from % TILE == 0 && at % TILE == 0) {
            // whole tiles stay whole (the last one may carry slots past count: the forward pass never reads them)
            System.arraycopy(old, from * headDim, k, at * headDim, Math.min(tiled(count) * headDim,
                    Math.min(old.length - from * headDim, k.length - at * headDim)));
            return k;
        }
        for (int s = 0; s < count; s++) {
            for (int d = 0; d < headDim; d++) {
                k[keyIndex(at + s, d, headDim)] = old[keyIndex(from + s, d, headDim)];
            }
        }
        return k;
    }

    /** Slots {@code [from, from + count)} of values into a fresh array at slot {@code at}. */
    private float[] copyValues(float[] old, int from, int count, int newCapacity, int at) {
        float[] v = new float[headDim * newCapacity];
        if (count > 0) {
            System.arraycopy(old, from * headDim, v, at * headDim, count * headDim);
        }
        return v;
    }

    @Override
    public boolean supportsRowCopy() {
        return true;
    }

    @Override
    public KvRows copyOut(int row, int from, int count) {
        Objects.checkIndex(row, batch);
        Objects.checkFromIndexSize(from, count, used);
        float[][] k = new float[layers * kvHeads][];
        float[][] v = new float[layers * kvHeads][];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < kvHeads; h++) {
                float[] tiledKeys = keys[l][row * kvHeads + h];
                float[] plain = new float[count * headDim];
                for (int s = 0; s < count; s++) {
                    for (int d = 0; d < headDim; d++) {
                        plain[s * headDim + d] = tiledKeys[keyIndex(from + s, d, headDim)];
                    }
                }
                k[l * kvHeads + h] = plain;
                v[l * kvHeads + h] = Arrays.copyOfRange(values[l][row * kvHeads + h], from * headDim,
                        (from + count) * headDim);
            }
        }
        return new JavaKvRows(layers, kvHeads, headDim, count, k, v);
    }

    @Override
    public void copyIn(int row, int at, KvRows rows, int count) {
        Objects.checkIndex(row, batch);
        if (!(rows instanceof JavaKvRows r) || r.layers != layers || r.kvHeads != kvHeads || r.headDim != headDim) {
            throw new IllegalArgumentException("copyIn needs rows copied out of a JavaKvCache of the same shape, got "
                    + rows);
        }
        Objects.checkFromIndexSize(0, count, r.slots);
        Objects.checkFromIndexSize(at, count, capacity);
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < kvHeads; h++) {
                float[] tiledKeys = keys[l][row * kvHeads + h];
                float[] plain = r.keys[l * kvHeads + h];
                for (int s = 0; s < count; s++) {
                    for (int d = 0; d < headDim; d++) {
                        tiledKeys[keyIndex(at + s, d, headDim)] = plain[s * headDim + d];
                    }
                }
                System.arraycopy(r.values[l * kvHeads + h], 0, values[l][row * kvHeads + h], at * headDim,
                        count * headDim);
            }
        }
    }

    /** Slots of one row, keys untiled: {@code keys[layer * kvHeads + head]} is {@code [slots][headDim]}. */
    private record JavaKvRows(int layers, int kvHeads, int headDim, int slots, float[][] keys, float[][] values)
            implements KvRows {

        @Override
        public long bytes() {
            return 2L * layers * kvHeads * slots * headDim * Float.BYTES;
        }

        @Override
        public String toString() {
            return "JavaKvRows[" + slots + " slots, " + layers + " layers, " + kvHeads + " heads of " + headDim + "]";
        }
    }

    @Override
    public long bytes() {
        return keys == null ? 0 : (long) layers * batch * kvHeads * (capacity + tiled(capacity)) * headDim * Float.BYTES;
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }
}
