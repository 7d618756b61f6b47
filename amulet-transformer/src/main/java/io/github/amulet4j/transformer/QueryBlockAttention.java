package io.github.amulet4j.transformer;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A prefill's attention for up to {@value #QUERIES} consecutive queries of one row at once, each with up to
 * {@value #HEADS} heads of one key head (Qwen2.5-0.5B: seven), over a long history: the cost that grows with a
 * conversation once the prompt cache restores its prefix. Each tile of keys and each block of values is read once
 * for the block of queries (from the level-1 cache after the first), instead of once per query from memory, and the
 * inner loops take two tiles of keys, or two vectors of a value, per step, so that each query element broadcast
 * serves two multiply-adds.
 *
 * <p>Every query gets the bits of {@link JavaForward}'s one-query paths: its scores are the same multiply-add chains
 * over the head dimension, its softmax the same {@link VectorOps#max} and {@link VectorOps#expShifted} over the same
 * slots, and each output element the same chain over the slots in order, started from zero and scaled by the same
 * inverse sum; only which slots and queries are computed next to each other changes. So a prompt's logits stay the
 * same whatever its chunking or cached prefix ({@code PrefillSplitBitwiseTest}).
 *
 * <p>Not thread-safe: one instance per thread of the pool (its scratch arrays).
 */
final class QueryBlockAttention {

    /** Queries computed together. */
    static final int QUERIES = 4;
    /** Heads of one key head computed together (missing ones repeat the last). */
    static final int HEADS = 8;
    /** Slots of values per block of the weighted sum (two vectors of {@code HEADS} heads per query stay in registers). */
    static final int VALUE_BLOCK = 64;

    private static final VectorSpecies<Float> S = VectorOps.S;
    private static final int TILE = JavaKvCache.TILE;

    private final int headDim;
    private final int qkvDim;
    private final int qDim;
    private final float softcap;
    /** Scores: row {@code (query * HEADS + head)} at {@code row * len}. */
    private float[] sc = new float[0];
    /** The weighted sums in flight, {@code [query][head][headDim]}. */
    private final float[] acc;
    private final float[] inv = new float[QUERIES * HEADS];
    private final int[] q = new int[HEADS];

    QueryBlockAttention(int headDim, int qkvDim, int qDim, float softcap) {
        this.headDim = headDim;
        this.qkvDim = qkvDim;
        this.qDim = qDim;
        this.softcap = softcap;
        this.acc = new float[QUERIES * HEADS * headDim];
    }

    /** Whether this applies to heads of {@code headDim}: whole pairs of vectors span it. */
    static boolean applies(int headDim) {
        return headDim % (2 * S.length()) == 0;
    }

    /** Floats of scratch this holds. */
    long floats() {
        return (long) sc.length + acc.length;
    }

    /**
     * Queries at chunk rows {@code i0 .. i0 + n - 1} (slots {@code query0 .. query0 + n - 1}), heads
     * {@code [first, first + count)} ({@code count <= HEADS}), all seeing slots from {@code lo}: reads their rotated
     * queries from {@code qkv}, writes their outputs into {@code attn}.
     */
    void attend(float[] keys, float[] values, float[] qkv, float[] attn, int i0, int n, int first, int count, int lo,
                int query0) {
        int base = lo - lo % TILE;
        int lastQuery = query0 + n - 1;
        int len = (lastQuery + 1 - base + TILE - 1) / TILE * TILE;
        int need = QUERIES * HEADS * len;
        if (sc.length < need) {
            sc = new float[Math.max(need, sc.length + sc.length / 4)];
        }
        int keyEnd = keys.length / headDim; // slots the key array holds (whole tiles)
        for (int s = 0; s < len; s += 2 * TILE) {
            boolean pair = s + TILE < len && base + s + 2 * TILE <= keyEnd;
            for (int j = 0; j < n; j++) {
                if (base + s > query0 + j) {
                    continue; // this query sees no slot of these tiles
                }
                queryOffsets(i0 + j, first, count);
                int row = j * HEADS * len;
                if (pair) {
                    scorePair(keys, (base + s) * headDim, qkv, row + s, len);
                } else {
                    scoreTile(keys, (base + s) * headDim, qkv, row + s, len);
                }
            }
            if (!pair && s + TILE < len) {
                s -= TILE; // the second tile of this step goes alone next
            }
        }
        int from = lo - base;
        for (int j = 0; j < n; j++) {
            int to = query0 + j - base + 1;
            for (int b = 0; b < HEADS; b++) {
                int row = (j * HEADS + b) * len;
                SoftCapping.apply(sc, row + from, to - from, softcap);
                float max = VectorOps.max(sc, row + from, to - from);
                inv[j * HEADS + b] = 1f / VectorOps.expShifted(sc, row + from, to - from, max);
            }
        }
        Arrays.fill(acc, 0, n * HEADS * headDim, 0f);
        int lanes = S.length();
        for (int x0 = from; x0 < len; x0 += VALUE_BLOCK) {
            for (int j = 0; j < n; j++) {
                int to = Math.min(query0 + j - base + 1, x0 + VALUE_BLOCK);
                if (x0 >= to) {
                    continue;
                }
                for (int dv = 0; dv < headDim; dv += 2 * lanes) {
                    weighPair(values, base, x0, to, dv, j * HEADS * len, len, j * HEADS * headDim + dv);
                }
            }
        }
        for (int j = 0; j < n; j++) {
            int out = (i0 + j) * qDim + first * headDim;
            for (int b = 0; b < count; b++) {
                float scale = inv[j * HEADS + b];
                int from0 = (j * HEADS + b) * headDim;
                for (int dv = 0; dv < headDim; dv += lanes) {
                    FloatVector.fromArray(S, acc, from0 + dv).mul(scale).intoArray(attn, out + b * headDim + dv);
                }
            }
        }
    }

    /** {@link #q}: where the query of chunk row {@code i} reads each head (missing heads repeat the last). */
    private void queryOffsets(int i, int first, int count) {
        int at = i * qkvDim + first * headDim;
        for (int b = 0; b < HEADS; b++) {
            q[b] = at + Math.min(b, count - 1) * headDim;
        }
    }

    /** Scores of two tiles of keys (from {@code tile}) for the {@link #HEADS} heads at {@link #q}, into rows of {@code len}. */
    private void scorePair(float[] keys, int tile, float[] qkv, int at, int len) {
        int q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3], q4 = q[4], q5 = q[5], q6 = q[6], q7 = q[7];
        int next = TILE * headDim;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        for (int d = 0; d < headDim; d++) {
            FloatVector k = FloatVector.fromArray(S, keys, tile + d * TILE);
            FloatVector l = FloatVector.fromArray(S, keys, tile + next + d * TILE);
            FloatVector w = FloatVector.broadcast(S, qkv[q0 + d]);
            a0 = k.fma(w, a0);
            b0 = l.fma(w, b0);
            w = FloatVector.broadcast(S, qkv[q1 + d]);
            a1 = k.fma(w, a1);
            b1 = l.fma(w, b1);
            w = FloatVector.broadcast(S, qkv[q2 + d]);
            a2 = k.fma(w, a2);
            b2 = l.fma(w, b2);
            w = FloatVector.broadcast(S, qkv[q3 + d]);
            a3 = k.fma(w, a3);
            b3 = l.fma(w, b3);
            w = FloatVector.broadcast(S, qkv[q4 + d]);
            a4 = k.fma(w, a4);
            b4 = l.fma(w, b4);
            w = FloatVector.broadcast(S, qkv[q5 + d]);
            a5 = k.fma(w, a5);
            b5 = l.fma(w, b5);
            w = FloatVector.broadcast(S, qkv[q6 + d]);
            a6 = k.fma(w, a6);
            b6 = l.fma(w, b6);
            w = FloatVector.broadcast(S, qkv[q7 + d]);
            a7 = k.fma(w, a7);
            b7 = l.fma(w, b7);
        }
        a0.intoArray(sc, at);
        b0.intoArray(sc, at + TILE);
        a1.intoArray(sc, at + len);
        b1.intoArray(sc, at + len + TILE);
        a2.intoArray(sc, at + 2 * len);
        b2.intoArray(sc, at + 2 * len + TILE);
        a3.intoArray(sc, at + 3 * len);
        b3.intoArray(sc, at + 3 * len + TILE);
        a4.intoArray(sc, at + 4 * len);
        b4.intoArray(sc, at + 4 * len + TILE);
        a5.intoArray(sc, at + 5 * len);
        b5.intoArray(sc, at + 5 * len + TILE);
        a6.intoArray(sc, at + 6 * len);
        b6.intoArray(sc, at + 6 * len + TILE);
        a7.intoArray(sc, at + 7 * len);
        b7.intoArray(sc, at + 7 * len + TILE);
    }

    /** {@link #scorePair} for one tile. */
    private void scoreTile(float[] keys, int tile, float[] qkv, int at, int len) {
        int q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3], q4 = q[4], q5 = q[5], q6 = q[6], q7 = q[7];
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int d = 0; d < headDim; d++) {
            FloatVector k = FloatVector.fromArray(S, keys, tile + d * TILE);
            a0 = k.fma(FloatVector.broadcast(S, qkv[q0 + d]), a0);
            a1 = k.fma(FloatVector.broadcast(S, qkv[q1 + d]), a1);
            a2 = k.fma(FloatVector.broadcast(S, qkv[q2 + d]), a2);
            a3 = k.fma(FloatVector.broadcast(S, qkv[q3 + d]), a3);
            a4 = k.fma(FloatVector.broadcast(S, qkv[q4 + d]), a4);
            a5 = k.fma(FloatVector.broadcast(S, qkv[q5 + d]), a5);
            a6 = k.fma(FloatVector.broadcast(S, qkv[q6 + d]), a6);
            a7 = k.fma(FloatVector.broadcast(S, qkv[q7 + d]), a7);
        }
        a0.intoArray(sc, at);
        a1.intoArray(sc, at + len);
        a2.intoArray(sc, at + 2 * len);
        a3.intoArray(sc, at + 3 * len);
        a4.intoArray(sc, at + 4 * len);
        a5.intoArray(sc, at + 5 * len);
        a6.intoArray(sc, at + 6 * len);
        a7.intoArray(sc, at + 7 * len);
    }

    /**
     * Adds slots {@code [x0, to)} (from {@code base}) of the values, weighed by the {@link #HEADS} score rows from
     * {@code row}, to the sums at {@code out} of {@link #acc} (two vectors from dimension {@code dv}).
     */
    private void weighPair(float[] values, int base, int x0, int to, int dv, int row, int len, int out) {
        int lanes = S.length();
        int hd = headDim;
        FloatVector a0 = FloatVector.fromArray(S, acc, out);
        FloatVector a1 = FloatVector.fromArray(S, acc, out + hd);
        FloatVector a2 = FloatVector.fromArray(S, acc, out + 2 * hd);
        FloatVector a3 = FloatVector.fromArray(S, acc, out + 3 * hd);
        FloatVector a4 = FloatVector.fromArray(S, acc, out + 4 * hd);
        FloatVector a5 = FloatVector.fromArray(S, acc, out + 5 * hd);
        FloatVector a6 = FloatVector.fromArray(S, acc, out + 6 * hd);
        FloatVector a7 = FloatVector.fromArray(S, acc, out + 7 * hd);
        FloatVector b0 = FloatVector.fromArray(S, acc, out + lanes);
        FloatVector b1 = FloatVector.fromArray(S, acc, out + hd + lanes);
        FloatVector b2 = FloatVector.fromArray(S, acc, out + 2 * hd + lanes);
        FloatVector b3 = FloatVector.fromArray(S, acc, out + 3 * hd + lanes);
        FloatVector b4 = FloatVector.fromArray(S, acc, out + 4 * hd + lanes);
        FloatVector b5 = FloatVector.fromArray(S, acc, out + 5 * hd + lanes);
        FloatVector b6 = FloatVector.fromArray(S, acc, out + 6 * hd + lanes);
        FloatVector b7 = FloatVector.fromArray(S, acc, out + 7 * hd + lanes);
        for (int x = x0; x < to; x++) {
            int v = (base + x) * hd + dv;
            FloatVector u = FloatVector.fromArray(S, values, v);
            FloatVector t = FloatVector.fromArray(S, values, v + lanes);
            FloatVector w = FloatVector.broadcast(S, sc[row + x]);
            a0 = u.fma(w, a0);
            b0 = t.fma(w, b0);
            w = FloatVector.broadcast(S, sc[row + len + x]);
            a1 = u.fma(w, a1);
            b1 = t.fma(w, b1);
            w = FloatVector.broadcast(S, sc[row + 2 * len + x]);
            a2 = u.fma(w, a2);
            b2 = t.fma(w, b2);
            w = FloatVector.broadcast(S, sc[row + 3 * len + x]);
            a3 = u.fma(w, a3);
            b3 = t.fma(w, b3);
            w = FloatVector.broadcast(S, sc[row + 4 * len + x]);
            a4 = u.fma(w, a4);
            b4 = t.fma(w, b4);
            w = FloatVector.broadcast(S, sc[row + 5 * len + x]);
            a5 = u.fma(w, a5);
            b5 = t.fma(w, b5);
            w = FloatVector.broadcast(S, sc[row + 6 * len + x]);
            a6 = u.fma(w, a6);
            b6 = t.fma(w, b6);
            w = FloatVector.broadcast(S, sc[row + 7 * len + x]);
            a7 = u.fma(w, a7);
            b7 = t.fma(w, b7);
        }
        a0.intoArray(acc, out);
        a1.intoArray(acc, out + hd);
        a2.intoArray(acc, out + 2 * hd);
        a3.intoArray(acc, out + 3 * hd);
        a4.intoArray(acc, out + 4 * hd);
        a5.intoArray(acc, out + 5 * hd);
        a6.intoArray(acc, out + 6 * hd);
        a7.intoArray(acc, out + 7 * hd);
        b0.intoArray(acc, out + lanes);
        b1.intoArray(acc, out + hd + lanes);
        b2.intoArray(acc, out + 2 * hd + lanes);
        b3.intoArray(acc, out + 3 * hd + lanes);
        b4.intoArray(acc, out + 4 * hd + lanes);
        b5.intoArray(acc, out + 5 * hd + lanes);
        b6.intoArray(acc, out + 6 * hd + lanes);
        b7.intoArray(acc, out + 7 * hd + lanes);
    }
}
