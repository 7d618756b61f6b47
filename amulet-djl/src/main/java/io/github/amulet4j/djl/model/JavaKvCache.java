package io.github.amulet4j.djl.model;

/**
 * A {@link KvCache} in Java arrays, for {@link JavaForward}. Per layer, row and key head, keys are held transposed,
 * {@code [headDim][capacity]}, so that the scores of one query over all slots are multiply-adds vectorized over the
 * slots (no horizontal sums), and values as {@code [capacity][headDim]}, so that the weighted sum of the values is
 * vectorized over the head dimension. float32 throughout.
 *
 * <p>Heap arrays rather than direct buffers: {@code FloatVector.fromArray} is the Vector API's cheapest load in JDK 17
 * (buffer loads add byte-order and scope checks), the arrays of one key head are contiguous, and a cache is
 * at most a few GiB for the models this runs on the CPU, well within the launcher's heap.
 */
final class JavaKvCache implements KvCache {

    private final int layers;
    private final int kvHeads;
    private final int headDim;
    /** {@code keys[layer][row * kvHeads + head]}: {@code [headDim][capacity]}. */
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
        this.keys = allocate(batch, this.capacity);
        this.values = allocate(batch, this.capacity);
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

    /** Keys of {@code layer}, row {@code row}, key head {@code head}: {@code [headDim][capacity()]}. */
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
        Math.multiplyExact(headDim, newCapacity);
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < batch * kvHeads; i++) {
                float[] k = new float[headDim * newCapacity];
                for (int d = 0; d < headDim; d++) {
                    System.arraycopy(keys[l][i], d * capacity, k, d * newCapacity, used);
                }
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
                    newKeys[l][to] = copyKeys(keys[l][from], capacity, shift, newUsed, capacity, 0);
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
        Math.multiplyExact(headDim, newCapacity);
        int n = batch + other.batch;
        float[][][] newKeys = new float[layers][n * kvHeads][];
        float[][][] newValues = new float[layers][n * kvHeads][];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < batch * kvHeads; i++) {
                newKeys[l][i] = copyKeys(keys[l][i], capacity, 0, mineUsed, newCapacity, newUsed - mineUsed);
                newValues[l][i] = copyValues(values[l][i], 0, mineUsed, newCapacity, newUsed - mineUsed);
            }
            for (int i = 0; i < other.batch * kvHeads; i++) {
                int to = batch * kvHeads + i;
                newKeys[l][to] = copyKeys(other.keys[l][i], other.capacity, 0, theirsUsed, newCapacity,
                        newUsed - theirsUsed);
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

    /** Slots {@code [from, from + count)} of transposed keys into a fresh array at slot {@code at}. */
    private float[] copyKeys(float[] old, int oldCapacity, int from, int count, int newCapacity, int at) {
        float[] k = new float[headDim * newCapacity];
        if (count > 0) {
            for (int d = 0; d < headDim; d++) {
                System.arraycopy(old, d * oldCapacity + from, k, d * newCapacity + at, count);
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
    public long bytes() {
        return keys == null ? 0 : 2L * layers * batch * kvHeads * capacity * headDim * Float.BYTES;
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }
}
