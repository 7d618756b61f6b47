package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@link KvCache} in Java arrays, for {@link JavaForward}. Per layer, row and key head, keys are held in tiles of
 * {@link #TILE} slots, each tile transposed, {@code [slots / TILE][headDim][TILE]} ({@link #keyIndex}): the scores
 * of a query for a tile of slots are multiply-adds of whole vectors over the head dimension, summed in registers
 * (no horizontal sums), reading one contiguous tile. Values are {@code [slots][headDim]}, so that the weighted sum
 * of the values is vectorized over the head dimension. The key arrays are rounded up to whole tiles. Keys and values
 * are float32 ({@code float[]}) or, for {@link KvCachePrecision#F16}, IEEE binary16 bits ({@code short[]}, rounded
 * to nearest even when written, {@link #write}): half the bytes, read only by the native attention
 * ({@link NativeAttention}, which widens them exactly); the layout is the same.
 *
 * <p>Sliding-window layers hold a bounded span of slots: a layer with window {@code w} keeps the slots that a later
 * query can still see ({@code w - 1} behind the next one) plus {@link #margin} more, and the chunk being written. Its
 * arrays start at slot {@link #start(int)} (array index = slot - start); when a chunk does not fit, the slots before
 * the kept span are dropped in whole tiles ({@link #makeRoom}), so a long conversation's memory grows with its
 * global layers only. Global layers hold every slot from 0. The margin lets a prompt-cache entry copied out of the
 * cache ({@link #copyOut}) restore any prefix within {@code margin} tokens of its end ({@link KvRows#restores}).
 *
 * <p>Heap arrays rather than direct buffers: {@code FloatVector.fromArray} is the Vector API's cheapest load in JDK 17
 * (buffer loads add byte-order and scope checks), the arrays of one key head are contiguous, and a cache is
 * at most a few GiB for the models this runs on the CPU, well within the launcher's heap.
 */
final class JavaKvCache implements KvCache {

    /** Slots per key tile: one vector of the Vector API's preferred float species. */
    static final int TILE = VectorOps.S.length();

    /** The window of a global layer: none. */
    static final int GLOBAL = Integer.MAX_VALUE;

    private final int layers;
    private final int kvHeads;
    private final int headDim;
    /** Per layer, its sliding window, or {@link #GLOBAL}. */
    private final int[] window;
    /** Whether keys and values are binary16 ({@code short[]}) rather than float32 ({@code float[]}). */
    private final boolean half;
    /**
     * {@code keys[layer][row * kvHeads + head]}: a {@code float[]} or, {@link #half}, a {@code short[]} of tiles of
     * {@link #TILE} slots, see {@link #keyIndex}.
     */
    private Object[][] keys;
    /** {@code values[layer][row * kvHeads + head]}: {@code [room(layer)][headDim]}, float32 or binary16. */
    private Object[][] values;
    /** Per layer: the slot at index 0 of its arrays (0 for a global layer). */
    private final int[] start;
    /** Per layer: the slots its arrays hold (the capacity for a global layer). */
    private final int[] room;
    private int batch;
    private int capacity;
    private int used;
    /** Whether rows were copied in since the cache was made (its sliding layers then hold slots). */
    private boolean restored;

    /** A float32 cache whose layers all hold every slot. */
    JavaKvCache(int layers, int batch, int kvHeads, int headDim, int capacity) {
        this(layers, batch, kvHeads, headDim, capacity, null, KvCachePrecision.F32);
    }

    /**
     * A cache of {@code precision} whose layer {@code l} is bounded by {@code windows[l]} ({@link #GLOBAL}: not
     * bounded); null: none is.
     */
    JavaKvCache(int layers, int batch, int kvHeads, int headDim, int capacity, int[] windows,
                KvCachePrecision precision) {
        this.half = Objects.requireNonNull(precision, "precision") == KvCachePrecision.F16;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.batch = batch;
        this.capacity = Math.max(1, capacity);
        this.window = new int[layers];
        Arrays.fill(window, GLOBAL);
        if (windows != null) {
            if (windows.length != layers) {
                throw new IllegalArgumentException("windows: one per layer (" + layers + "), got " + windows.length);
            }
            for (int l = 0; l < layers; l++) {
                if (windows[l] < 1) {
                    throw new IllegalArgumentException("windows[" + l + "] must be >= 1, got " + windows[l]);
                }
                window[l] = windows[l];
            }
        }
        Math.multiplyExact(headDim, this.capacity); // one head's keys must fit one array
        this.start = new int[layers];
        this.room = new int[layers];
        this.keys = new Object[layers][];
        this.values = new Object[layers][];
        for (int l = 0; l < layers; l++) {
            room[l] = sliding(l) ? (int) Math.min(this.capacity, (long) keepBehind(window[l]) + MIN_GROWTH)
                    : this.capacity;
            keys[l] = allocate(batch, tiled(room[l]));
            values[l] = allocate(batch, room[l]);
        }
    }

    /**
     * Slots a sliding layer of {@code window} keeps beyond the {@code window - 1} that the next query sees: half a
     * window, so that a prompt-cache entry serves prefixes up to half a window shorter than itself.
     */
    static int margin(int window) {
        return window / 2;
    }

    /** Slots behind the next query that a sliding layer of {@code window} keeps. */
    static int keepBehind(int window) {
        return (int) Math.min(Integer.MAX_VALUE / 2, (long) window - 1 + margin(window));
    }

    private boolean sliding(int layer) {
        return window[layer] != GLOBAL;
    }

    /** Slots rounded up to whole tiles. */
    private static int tiled(int slots) {
        return Math.multiplyExact((slots + TILE - 1) / TILE, TILE);
    }

    /** Where the key of {@code slot}, dimension {@code d}, lies in a key array of a head with {@code headDim}. */
    static int keyIndex(int slot, int d, int headDim) {
        return ((slot / TILE) * headDim + d) * TILE + slot % TILE;
    }

    private Object[] allocate(int rows, int slots) {
        Object[] a = new Object[rows * kvHeads];
        int size = Math.multiplyExact(headDim, slots);
        for (int i = 0; i < a.length; i++) {
            a[i] = newArray(size);
        }
        return a;
    }

    /** A zeroed array of {@code size} elements of this cache's precision. */
    private Object newArray(int size) {
        return half ? new short[size] : new float[size];
    }

    /** Elements of a {@code float[]} or {@code short[]}. */
    private static int length(Object array) {
        return array instanceof float[] f ? f.length : ((short[]) array).length;
    }

    /** {@code dst[j] = src[i]} for two arrays of the same type, {@code float[]} or {@code short[]}. */
    private static void copyElement(Object src, int i, Object dst, int j) {
        if (src instanceof float[] f) {
            ((float[]) dst)[j] = f[i];
        } else {
            ((short[]) dst)[j] = ((short[]) src)[i];
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

    int kvHeads() {
        return kvHeads;
    }

    /** The slot at index 0 of {@code layer}'s arrays: 0 for a global layer, the first slot held for a sliding one. */
    int start(int layer) {
        return start[layer];
    }

    /** Slots the arrays of {@code layer} hold. */
    int room(int layer) {
        return room[layer];
    }

    /** The precision of the keys and values held. */
    KvCachePrecision precision() {
        return half ? KvCachePrecision.F16 : KvCachePrecision.F32;
    }

    /** Whether keys and values are binary16, read only by the native attention. */
    boolean half() {
        return half;
    }

    /**
     * Float32 keys of {@code layer}, row {@code row}, key head {@code head}, in tiles ({@link #keyIndex}), from
     * {@link #start} (the Java attention paths).
     *
     * @throws IllegalStateException if this cache holds binary16
     */
    float[] keys(int layer, int row, int head) {
        requireFloat32();
        return (float[]) keys[layer][row * kvHeads + head];
    }

    /**
     * Float32 values of {@code layer}, row {@code row}, key head {@code head}: {@code [room(layer)][headDim]}, from
     * {@link #start}.
     *
     * @throws IllegalStateException if this cache holds binary16
     */
    float[] values(int layer, int row, int head) {
        requireFloat32();
        return (float[]) values[layer][row * kvHeads + head];
    }

    private void requireFloat32() {
        if (half) {
            throw new IllegalStateException("this KV cache holds float16 keys and values, which only the native "
                    + "attention reads");
        }
    }

    /** As {@link #keys}, the array as held: {@code float[]} or {@code short[]} of binary16 bits (the native attention). */
    Object keyArray(int layer, int row, int head) {
        return keys[layer][row * kvHeads + head];
    }

    /** As {@link #values}, the array as held: {@code float[]} or {@code short[]} of binary16 bits. */
    Object valueArray(int layer, int row, int head) {
        return values[layer][row * kvHeads + head];
    }

    /**
     * Writes one slot of {@code layer}, row {@code row}, key head {@code head} at array index {@code index} (slot -
     * {@link #start}): the key from {@code src[keyAt ..]}, the value from {@code src[valueAt ..]}, {@code headDim}
     * floats each, rounded to the nearest binary16 (ties to even) in a float16 cache.
     */
    void write(int layer, int row, int head, int index, float[] src, int keyAt, int valueAt) {
        Object k = keys[layer][row * kvHeads + head];
        Object v = values[layer][row * kvHeads + head];
        int at = index * headDim;
        if (k instanceof float[] fk) {
            for (int d = 0; d < headDim; d++) {
                fk[keyIndex(index, d, headDim)] = src[keyAt + d];
            }
            System.arraycopy(src, valueAt, (float[]) v, at, headDim);
        } else {
            short[] hk = (short[]) k;
            short[] hv = (short[]) v;
            for (int d = 0; d < headDim; d++) {
                hk[keyIndex(index, d, headDim)] = SafetensorsDtype.floatToHalf(src[keyAt + d]);
                hv[at + d] = SafetensorsDtype.floatToHalf(src[valueAt + d]);
            }
        }
    }

    /** Grows the global layers (sliding ones make room per chunk, {@link #makeRoom}). */
    @Override
    public void reserve(int extra) {
        int newCapacity = KvCache.grownCapacity(used, capacity, extra);
        if (newCapacity == capacity) {
            return;
        }
        Math.multiplyExact(headDim, tiled(newCapacity));
        for (int l = 0; l < layers; l++) {
            if (!sliding(l)) {
                relayout(l, 0, newCapacity, used);
            }
        }
        capacity = newCapacity;
    }

    /**
     * Makes every sliding layer hold slots {@code [used, used + t)} (a chunk about to be written): where they do not
     * fit, the slots before the {@link #keepBehind} kept ones are dropped (whole tiles), and the arrays grow if that
     * is not enough, or shrink back when a long chunk had grown them to more than twice what is needed.
     */
    void makeRoom(int t) {
        long end = (long) used + t;
        for (int l = 0; l < layers; l++) {
            if (!sliding(l) || end - start[l] <= room[l]) {
                continue;
            }
            long keepFrom = (long) used - keepBehind(window[l]);
            int newStart = keepFrom <= start[l] ? start[l] : start[l] + (int) ((keepFrom - start[l]) / TILE * TILE);
            long needed = end - newStart;
            int newRoom = room[l];
            if (needed > newRoom) {
                newRoom = KvCache.grownCapacity(used - newStart, room[l], t);
            } else if (newRoom > 2 * (needed + MIN_GROWTH)) {
                // the room a long chunk took goes back (a prompt prefilled in one chunk, then decode steps)
                newRoom = (int) needed + MIN_GROWTH;
            }
            relayout(l, newStart, newRoom, used);
        }
    }

    /**
     * New arrays for {@code layer} holding slots from {@code newStart}, {@code newRoom} of them, with the slots held
     * now in {@code [max(start, newStart), heldEnd)} copied over.
     */
    private void relayout(int layer, int newStart, int newRoom, int heldEnd) {
        int first = Math.max(start[layer], newStart);
        int count = Math.max(0, heldEnd - first);
        int from = first - start[layer];
        int at = first - newStart;
        // dropping whole tiles at the same size (a decode step's or a chunk's compaction) moves the slots within the
        // arrays, allocating nothing: a long prefill in chunks would otherwise leave a layer's arrays as garbage each
        // chunk (measured: 1 GB more peak resident memory, prefill 40% slower, gemma-3-1b at 4,096 tokens)
        boolean inPlace = newRoom == room[layer] && (count == 0 || at <= from && from % TILE == 0 && at % TILE == 0);
        for (int i = 0; i < batch * kvHeads; i++) {
            if (inPlace && count == 0) {
                continue; // nothing held moves (the slots past those held are never read before being written)
            } else if (inPlace) {
                Object k = keys[layer][i];
                System.arraycopy(k, from * headDim, k, at * headDim, Math.min(tiled(count) * headDim,
                        length(k) - from * headDim));
                Object v = values[layer][i];
                System.arraycopy(v, from * headDim, v, at * headDim, count * headDim);
            } else {
                keys[layer][i] = copyKeys(keys[layer][i], from, count, newRoom, at);
                values[layer][i] = copyValues(values[layer][i], from, count, newRoom, at);
            }
        }
        start[layer] = newStart;
        room[layer] = newRoom;
    }

    @Override
    public void advance(int t) {
        used += t;
    }

    @Override
    public void select(int[] sources, int shift) {
        int newUsed = used - shift;
        int n = sources.length;
        Object[][] newKeys = new Object[layers][n * kvHeads];
        Object[][] newValues = new Object[layers][n * kvHeads];
        for (int l = 0; l < layers; l++) {
            // the first `shift` slots go: a sliding layer drops those it still holds
            int drop = Math.max(0, shift - start[l]);
            int count = Math.max(0, used - start[l] - drop);
            for (int j = 0; j < n; j++) {
                for (int h = 0; h < kvHeads; h++) {
                    int from = sources[j] * kvHeads + h;
                    int to = j * kvHeads + h;
                    newKeys[l][to] = copyKeys(keys[l][from], drop, count, room[l], 0);
                    newValues[l][to] = copyValues(values[l][from], drop, count, room[l], 0);
                }
            }
            start[l] = Math.max(0, start[l] - shift);
        }
        keys = newKeys;
        values = newValues;
        batch = n;
        used = newUsed;
    }

    @Override
    public int[] absorb(KvCache cache) {
        JavaKvCache other = (JavaKvCache) cache;
        if (other.layers != layers || !Arrays.equals(other.window, window) || other.half != half) {
            throw new IllegalArgumentException("absorb needs a cache of the same layers, windows and precision, got "
                    + other);
        }
        int mineUsed = batch == 0 ? 0 : used;
        int theirsUsed = other.batch == 0 ? 0 : other.used;
        int newUsed = Math.max(mineUsed, theirsUsed);
        int newCapacity = capacity;
        while (newCapacity < newUsed) {
            newCapacity = Math.multiplyExact(newCapacity, 2);
        }
        Math.multiplyExact(headDim, tiled(newCapacity));
        int padMine = newUsed - mineUsed;
        int padTheirs = newUsed - theirsUsed;
        int n = batch + other.batch;
        Object[][] newKeys = new Object[layers][n * kvHeads];
        Object[][] newValues = new Object[layers][n * kvHeads];
        for (int l = 0; l < layers; l++) {
            // both sides' slots move right by their padding; a sliding layer starts at the earlier of their starts
            // (the later one's row holds zeros in between, slots no query of it sees)
            long mineStart = batch == 0 ? Long.MAX_VALUE : (long) start[l] + padMine;
            long theirsStart = other.batch == 0 ? Long.MAX_VALUE : (long) other.start[l] + padTheirs;
            int newStart = sliding(l) ? (int) Math.min(newUsed, Math.min(mineStart, theirsStart)) : 0;
            int newRoom = sliding(l) ? Math.max(Math.max(room[l], other.room[l]), newUsed - newStart) : newCapacity;
            for (int i = 0; i < batch * kvHeads; i++) {
                int at = (int) (mineStart - newStart);
                newKeys[l][i] = copyKeys(keys[l][i], 0, mineUsed - start[l], newRoom, at);
                newValues[l][i] = copyValues(values[l][i], 0, mineUsed - start[l], newRoom, at);
            }
            for (int i = 0; i < other.batch * kvHeads; i++) {
                int to = batch * kvHeads + i;
                int at = (int) (theirsStart - newStart);
                newKeys[l][to] = copyKeys(other.keys[l][i], 0, theirsUsed - other.start[l], newRoom, at);
                newValues[l][to] = copyValues(other.values[l][i], 0, theirsUsed - other.start[l], newRoom, at);
            }
            start[l] = newStart;
            room[l] = newRoom;
        }
        keys = newKeys;
        values = newValues;
        batch = n;
        capacity = newCapacity;
        used = newUsed;
        return new int[] {padMine, padTheirs};
    }

    /** Slots {@code [from, from + count)} of tiled keys into a fresh array of {@code newRoom} slots at slot {@code at}. */
    private Object copyKeys(Object old, int from, int count, int newRoom, int at) {
        Object k = newArray(headDim * tiled(newRoom));
        if (count <= 0) {
            return k;
        }
        if (from % TILE == 0 && at % TILE == 0) {
            // whole tiles stay whole (the last one may carry slots past count: the forward pass never reads them)
            System.arraycopy(old, from * headDim, k, at * headDim, Math.min(tiled(count) * headDim,
                    Math.min(length(old) - from * headDim, length(k) - at * headDim)));
            return k;
        }
        for (int s = 0; s < count; s++) {
            for (int d = 0; d < headDim; d++) {
                copyElement(old, keyIndex(from + s, d, headDim), k, keyIndex(at + s, d, headDim));
            }
        }
        return k;
    }

    /** Slots {@code [from, from + count)} of values into a fresh array of {@code newRoom} slots at slot {@code at}. */
    private Object copyValues(Object old, int from, int count, int newRoom, int at) {
        Object v = newArray(headDim * newRoom);
        if (count > 0) {
            System.arraycopy(old, from * headDim, v, at * headDim, count * headDim);
        }
        return v;
    }

    @Override
    public boolean supportsRowCopy() {
        return true;
    }

    /** What a sliding layer no longer holds is left out: the rows then {@link KvRows#restores} only longer prefixes. */
    @Override
    public KvRows copyOut(int row, int from, int count) {
        Objects.checkIndex(row, batch);
        Objects.checkFromIndexSize(from, count, used);
        Object[] k = new Object[layers * kvHeads];
        Object[] v = new Object[layers * kvHeads];
        int[] dropped = new int[layers];
        for (int l = 0; l < layers; l++) {
            int first = Math.max(from, start[l]);
            dropped[l] = Math.min(count, first - from);
            int n = count - dropped[l];
            int at = first - start[l];
            for (int h = 0; h < kvHeads; h++) {
                Object tiledKeys = keys[l][row * kvHeads + h];
                Object plain = newArray(n * headDim);
                for (int s = 0; s < n; s++) {
                    for (int d = 0; d < headDim; d++) {
                        copyElement(tiledKeys, keyIndex(at + s, d, headDim), plain, s * headDim + d);
                    }
                }
                k[l * kvHeads + h] = plain;
                Object plainValues = newArray(n * headDim);
                System.arraycopy(values[l][row * kvHeads + h], at * headDim, plainValues, 0, n * headDim);
                v[l * kvHeads + h] = plainValues;
            }
        }
        return new JavaKvRows(layers, kvHeads, headDim, count, k, v, window.clone(), dropped, precision());
    }

    /**
     * Of a sliding layer, writes only the slots a query after the restored ones sees, plus the {@link #margin}; the
     * layer's arrays move to hold them (rows restored into one cache end at the same slot, as a session's do).
     *
     * @throws IllegalArgumentException if {@code rows} lack slots that a query after the first {@code count} sees
     */
    @Override
    public void copyIn(int row, int at, KvRows rows, int count) {
        Objects.checkIndex(row, batch);
        if (!(rows instanceof JavaKvRows r) || r.layers != layers || r.kvHeads != kvHeads || r.headDim != headDim
                || !Arrays.equals(r.window, window) || r.precision != precision()) {
            throw new IllegalArgumentException("copyIn needs rows copied out of a JavaKvCache of the same shape and "
                    + "precision (" + precision() + "), got " + rows);
        }
        Objects.checkFromIndexSize(0, count, r.slots);
        Objects.checkFromIndexSize(at, count, capacity);
        if (!r.restores(count)) {
            throw new IllegalArgumentException("copyIn: " + rows + " no longer hold the slots of the sliding layers'"
                    + " window before slot " + count + "; restore a longer prefix or prefill");
        }
        for (int l = 0; l < layers; l++) {
            int first = r.dropped[l];
            if (sliding(l)) {
                first = Math.max(first, count - keepBehind(window[l]));
                cover(l, at + first, at + count);
            }
            for (int h = 0; h < kvHeads; h++) {
                Object tiledKeys = keys[l][row * kvHeads + h];
                Object plain = r.keys[l * kvHeads + h];
                for (int s = first; s < count; s++) {
                    int slot = at + s - start[l];
                    int src = (s - r.dropped[l]) * headDim;
                    for (int d = 0; d < headDim; d++) {
                        copyElement(plain, src + d, tiledKeys, keyIndex(slot, d, headDim));
                    }
                }
                if (count > first) {
                    System.arraycopy(r.values[l * kvHeads + h], (first - r.dropped[l]) * headDim,
                            values[l][row * kvHeads + h], (at + first - start[l]) * headDim, (count - first) * headDim);
                }
            }
        }
        restored = true;
    }

    /** Moves or grows a sliding layer's arrays so that they hold slots {@code [from, to)}, keeping what they hold. */
    private void cover(int layer, int from, int to) {
        if (used == 0 && !restored) {
            // nothing written yet: the layer starts where the restored slots start (on a tile, as a prefill's would)
            int newStart = from - from % TILE;
            relayout(layer, newStart, Math.max(room[layer], to - newStart), 0);
            return;
        }
        int newStart = Math.min(start[layer], from);
        long end = Math.max((long) start[layer] + room[layer], to);
        if (newStart != start[layer] || end - newStart != room[layer]) {
            relayout(layer, newStart, Math.toIntExact(end - newStart), start[layer] + room[layer]);
        }
    }

    /**
     * Slots of one row, keys untiled: {@code keys[layer * kvHeads + head]} is {@code [slots - dropped[layer]][headDim]},
     * from slot {@code dropped[layer]} (the slots a sliding layer no longer held when they were copied out); each a
     * {@code float[]} or, for {@link KvCachePrecision#F16}, a {@code short[]} of binary16 bits.
     */
    private record JavaKvRows(int layers, int kvHeads, int headDim, int slots, Object[] keys, Object[] values,
                              int[] window, int[] dropped, KvCachePrecision precision) implements KvRows {

        /** Every layer holds the slots the query after the first {@code count} sees. */
        @Override
        public boolean restores(int count) {
            if (count > slots) {
                return false;
            }
            for (int l = 0; l < layers; l++) {
                if (dropped[l] > 0 && (long) count - window[l] + 1 < dropped[l]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public long bytes() {
            long held = 0;
            for (int l = 0; l < layers; l++) {
                held += slots - dropped[l];
            }
            return 2L * held * kvHeads * headDim * precision.bytesPerElement();
        }

        @Override
        public String toString() {
            return "JavaKvRows[" + slots + " slots, " + layers + " layers, " + kvHeads + " heads of " + headDim
                    + ", " + precision + ", dropped " + Arrays.toString(dropped) + "]";
        }
    }

    @Override
    public long bytes() {
        if (keys == null) {
            return 0;
        }
        long slots = 0;
        for (int l = 0; l < layers; l++) {
            slots += room[l] + tiled(room[l]);
        }
        return slots * batch * kvHeads * headDim * precision().bytesPerElement();
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }
}
