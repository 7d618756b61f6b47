package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.amulet4j.djl.checkpoint.ModelConfig;
import io.github.amulet4j.djl.weights.WeightMatrix;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole forward pass on float arrays, for weights held for the Java kernels (CPU, float32): embeddings from the
 * Java-held table, norms, rotary embeddings from cos/sin of the inverse frequencies, attention over a
 * {@link JavaKvCache}, activations and residual adds with the Java Vector API ({@link VectorOps}), and every linear
 * layer through {@link WeightMatrix#multiply} with the weight's rows split over the {@link RowSplitPool} threads.
 * The same contract as {@link TransformerForward}: left-padded rows with a per-row padding, the prompt in chunks of
 * {@code chunk} tokens through the cache, logits of the last or of every position.
 *
 * <p>Memory: the activations of one chunk live in scratch arrays that are reused from one step to the next (they
 * grow to the largest chunk seen and stay), attention computes one query's scores at a time per thread (a slot's
 * worth of floats, never a {@code [T, S]} matrix), so a decode step allocates next to nothing and a long prefill
 * holds the cache plus one chunk's activations.
 *
 * <p>Attention per (row, head), split over the pool's threads; a query sees real slots at or before its own and,
 * with a sliding window, fewer than {@code window} slots behind it. A query that sees no slot at all (a padding
 * position) averages the values of every slot, as the engine's finite mask does, so no NaN ever appears.
 */
final class JavaForward implements ForwardPass {

    private final ModelWeights w;
    private final RowSplitPool workers;
    private final float[] invFreq;
    private final boolean gpt2;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int groups;
    private final int headDim;
    private final int half;
    private final int qDim;
    private final int kvDim;
    private final int qkvDim;
    private final int hidden;
    private final int inter;
    private final int upRows;
    private final int vocab;
    private final float eps;
    private final int window;
    private final float queryScale;
    private final TransformerForward.Activation activation;
    /** Per layer, the engine's norms and biases copied once into Java arrays (null where the model has none). */
    private final float[][] norm1;
    private final float[][] norm1Bias;
    private final float[][] qkvBias;
    private final float[][] outBias;
    private final float[][] qNorm;
    private final float[][] kNorm;
    private final float[][] norm2;
    private final float[][] norm2Bias;
    private final float[][] upBias;
    private final float[][] downBias;
    private final float[] finalNorm;
    private final float[] finalNormBias;
    /** GPT-2's learned positions {@code [maxPositions, hidden]}; null for rotary models. */
    private final float[] positions;

    // Scratch, reused across chunks and steps (grown to the largest chunk seen).
    private int scratchRows;
    private float[] x = new float[0];
    private float[] h = new float[0];
    private float[] qkv = new float[0];
    private float[] attn = new float[0];
    private float[] proj = new float[0];
    private float[] up = new float[0];
    private float[] act = new float[0];
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    /** Logits of a group of positions for {@link #runAll}. */
    private float[] groupLogits = new float[0];
    /** Per attention task: one query's scores (a slot each) and its output accumulator. */
    private final float[][] scores;
    private final float[][] accumulators;

    private Runnable probe;
    /** The next piece of a shared product or attention to claim, and the threads that joined it. */
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger runners = new AtomicInteger();

    /**
     * Pieces a product of one or two columns is cut into per thread (so that a late thread finds little left to take);
     * each kernel call copies its input once, so more pieces make more garbage.
     */
    static final int PIECES_PER_THREAD = 4;
    /** Fewest weight rows in a piece. */
    static final int MIN_PIECE_ROWS = 64;
    /** The cache of the pass in flight, for {@link #heapBytesHeld()}. */
    private KvCache running;

    /** Queries of one head that {@link #attendBlock} computes together. */
    static final int QUERY_BLOCK = 4;
    /** Whether {@link #attendBlock} applies: whole vectors span the head dimension. */
    private final boolean blockedAttention;

    /** Positions whose logits {@link #runAll} computes at once (their logits take {@code vocab} floats each). */
    static final int LOGIT_GROUP = 16;

    JavaForward(ModelConfig config, ModelWeights weights, float[] invFreq, RowSplitPool workers) {
        this.w = weights;
        this.workers = workers;
        this.invFreq = invFreq;
        this.gpt2 = config.isGpt2();
        this.layers = config.numLayers();
        this.heads = config.numHeads();
        this.kvHeads = config.numKvHeads();
        this.groups = heads / kvHeads;
        this.headDim = config.headDim();
        this.half = headDim / 2;
        this.qDim = heads * headDim;
        this.kvDim = kvHeads * headDim;
        this.qkvDim = qDim + 2 * kvDim;
        this.hidden = config.hiddenSize();
        this.inter = config.intermediateSize();
        this.upRows = weights.layers.get(0).up().rows();
        this.vocab = config.vocabSize();
        this.eps = (float) config.normEps();
        this.window = config.slidingWindow() == null ? Integer.MAX_VALUE : config.slidingWindow();
        this.queryScale = (float) (1.0 / Math.sqrt(headDim));
        this.activation = TransformerForward.activation(config);
        this.blockedAttention = headDim % VectorOps.S.length() == 0;
        norm1 = new float[layers][];
        norm1Bias = new float[layers][];
        qkvBias = new float[layers][];
        outBias = new float[layers][];
        qNorm = new float[layers][];
        kNorm = new float[layers][];
        norm2 = new float[layers][];
        norm2Bias = new float[layers][];
        upBias = new float[layers][];
        downBias = new float[layers][];
        for (int l = 0; l < layers; l++) {
            ModelWeights.Layer layer = weights.layers.get(l);
            norm1[l] = floats(layer.norm1());
            norm1Bias[l] = floats(layer.norm1Bias());
            qkvBias[l] = floats(layer.qkv().bias());
            outBias[l] = floats(layer.out().bias());
            qNorm[l] = floats(layer.qNorm());
            kNorm[l] = floats(layer.kNorm());
            norm2[l] = floats(layer.norm2());
            norm2Bias[l] = floats(layer.norm2Bias());
            upBias[l] = floats(layer.up().bias());
            downBias[l] = floats(layer.down().bias());
        }
        finalNorm = floats(weights.finalNorm);
        finalNormBias = floats(weights.finalNormBias);
        positions = floats(weights.positions);
        scores = new float[workers.threads()][0];
        accumulators = new float[workers.threads()][headDim];
    }

    private static float[] floats(NDArray a) {
        return a == null ? null : a.toFloatArray();
    }

    @Override
    public void run(NDManager step, int[][] tokens, int[] pad, KvCache cache, int chunk, float[] last) {
        run(tokens, pad, (JavaKvCache) cache, chunk, last, null);
    }

    @Override
    public void runAll(NDManager step, int[][] tokens, int[] pad, KvCache cache, int chunk, float[][] every) {
        run(tokens, pad, (JavaKvCache) cache, chunk, null, every);
    }

    @Override
    public KvCache newCache(NDManager owner, int batch, int capacity) {
        return new JavaKvCache(layers, batch, kvHeads, headDim, capacity);
    }

    private void run(int[][] tokens, int[] pad, JavaKvCache cache, int chunk, float[] last, float[][] every) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        int t = tokens[0].length;
        cache.reserve(t);
        running = cache;
        try {
            for (int start = 0; start < t; start += chunk) {
                int end = (int) Math.min(t, (long) start + chunk);
                runChunk(tokens, pad, cache, start, end, end == t ? last : null, every);
            }
        } finally {
            running = null;
        }
    }

    /** Tokens {@code [start, end)} of every row through every layer; logits only where asked for. */
    private void runChunk(int[][] tokens, int[] pad, JavaKvCache cache, int start, int end, float[] last,
                          float[][] every) {
        int b = tokens.length;
        int t = end - start;
        int past = cache.used();
        int n = Math.multiplyExact(b, t);
        ensureScratch(n);

        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                int i = r * t + j;
                int pos = Math.max(0, past + j - pad[r]);
                w.embeddingRow(tokens[r][start + j], x, i * hidden);
                if (gpt2) {
                    VectorOps.add(positions, pos * hidden, x, i * hidden, hidden);
                } else {
                    for (int f = 0; f < half; f++) {
                        float angle = pos * invFreq[f];
                        cos[i * half + f] = (float) Math.cos(angle);
                        sin[i * half + f] = (float) Math.sin(angle);
                    }
                }
            }
        }
        for (int l = 0; l < layers; l++) {
            layer(l, cache, pad, b, t, past);
            probe();
        }
        cache.advance(t);

        if (last != null) {
            for (int r = 0; r < b; r++) {
                norm(x, (r * t + t - 1) * hidden, finalNorm, finalNormBias, h, r * hidden);
            }
            product(w.head, h, b, last);
            probe();
        } else if (every != null) {
            int whole = tokens[0].length;
            for (int i = 0; i < n; i++) {
                norm(x, i * hidden, finalNorm, finalNormBias, h, i * hidden);
            }
            for (int g = 0; g < n; g += LOGIT_GROUP) {
                int rows = Math.min(LOGIT_GROUP, n - g);
                if (groupLogits.length < rows * vocab) {
                    groupLogits = new float[Math.multiplyExact(LOGIT_GROUP, vocab)];
                }
                // the product reads its input from index 0: the group's rows go to the front of a reused array
                System.arraycopy(h, g * hidden, proj, 0, rows * hidden);
                product(w.head, proj, rows, groupLogits);
                for (int k = 0; k < rows; k++) {
                    int i = g + k;
                    System.arraycopy(groupLogits, k * vocab, every[(i / t) * whole + start + i % t], 0, vocab);
                }
            }
            probe();
        }
    }

    private void ensureScratch(int n) {
        if (n <= scratchRows) {
            return;
        }
        x = new float[Math.multiplyExact(n, hidden)];
        h = new float[n * hidden];
        // proj also holds a group of rows for the head (runAll)
        proj = new float[Math.multiplyExact(Math.max(n, LOGIT_GROUP), hidden)];
        qkv = new float[Math.multiplyExact(n, qkvDim)];
        attn = new float[Math.multiplyExact(n, qDim)];
        up = new float[Math.multiplyExact(n, upRows)];
        act = gpt2 ? new float[0] : new float[Math.multiplyExact(n, inter)];
        cos = new float[Math.multiplyExact(n, Math.max(1, half))];
        sin = new float[cos.length];
        scratchRows = n;
    }

    /** One decoder layer over the chunk's {@code b * t} rows of {@link #x}, in place. */
    private void layer(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int n = b * t;
        ModelWeights.Layer layer = w.layers.get(l);
        for (int i = 0; i < n; i++) {
            norm(x, i * hidden, norm1[l], norm1Bias[l], h, i * hidden);
        }
        product(layer.qkv(), h, n, qkv);
        addBias(qkv, n, qkvDim, qkvBias[l]);
        int capacity = cache.capacity();
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                int i = r * t + j;
                int base = i * qkvDim;
                if (qNorm[l] != null) {
                    for (int hd = 0; hd < heads; hd++) {
                        rmsNorm(qkv, base + hd * headDim, qNorm[l], qkv, base + hd * headDim, headDim);
                    }
                    for (int kh = 0; kh < kvHeads; kh++) {
                        int at = base + qDim + kh * headDim;
                        rmsNorm(qkv, at, kNorm[l], qkv, at, headDim);
                    }
                }
                if (!gpt2) {
                    for (int hd = 0; hd < heads + kvHeads; hd++) {
                        rotate(qkv, base + hd * headDim, i * half);
                    }
                }
                VectorOps.scale(qkv, base, qDim, queryScale);
                int slot = past + j;
                for (int kh = 0; kh < kvHeads; kh++) {
                    float[] keys = cache.keys(l, r, kh);
                    int k = base + qDim + kh * headDim;
                    for (int d = 0; d < headDim; d++) {
                        keys[d * capacity + slot] = qkv[k + d];
                    }
                    System.arraycopy(qkv, base + qDim + kvDim + kh * headDim, cache.values(l, r, kh),
                            slot * headDim, headDim);
                }
            }
        }
        attention(l, cache, pad, b, t, past);
        probe();
        product(layer.out(), attn, n, proj);
        addBias(proj, n, hidden, outBias[l]);
        VectorOps.add(proj, 0, x, 0, n * hidden);

        for (int i = 0; i < n; i++) {
            norm(x, i * hidden, norm2[l], norm2Bias[l], h, i * hidden);
        }
        product(layer.up(), h, n, up);
        addBias(up, n, upRows, upBias[l]);
        float[] down;
        if (gpt2) {
            activate(up, 0, n * inter);
            down = up;
        } else {
            for (int i = 0; i < n; i++) {
                System.arraycopy(up, i * upRows, act, i * inter, inter);
                activate(act, i * inter, inter);
                VectorOps.multiply(act, i * inter, up, i * upRows + inter, inter);
            }
            down = act;
        }
        product(layer.down(), down, n, proj);
        addBias(proj, n, hidden, downBias[l]);
        VectorOps.add(proj, 0, x, 0, n * hidden);
    }

    /**
     * Attention of the chunk's queries (rotated and scaled, in {@link #qkv}) over slots {@code [0, past + t)} of the
     * cache, into {@link #attn}: the threads of the pool claim (row, head) pairs one at a time.
     */
    private void attention(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int total = past + t;
        int pairs = b * heads;
        for (int p = 0; p < scores.length; p++) {
            if (scores[p].length < QUERY_BLOCK * total) {
                scores[p] = new float[Math.max(QUERY_BLOCK * total, scores[p].length + scores[p].length / 4)];
            }
        }
        next.set(0);
        runners.set(0);
        workers.runShared(() -> {
            int me = runners.getAndIncrement();
            float[] sc = scores[me];
            float[] acc = accumulators[me];
            for (int pair = next.getAndIncrement(); pair < pairs; pair = next.getAndIncrement()) {
                int r = pair / heads;
                attendHead(l, cache, r, pair % heads, pad[r], t, past, sc, acc);
            }
        });
    }

    /** Every query of row {@code r}, head {@code hd} of the chunk. */
    private void attendHead(int l, JavaKvCache cache, int r, int hd, int pad, int t, int past, float[] sc,
                            float[] acc) {
        int kh = hd / groups;
        float[] keys = cache.keys(l, r, kh);
        float[] values = cache.values(l, r, kh);
        int capacity = cache.capacity();
        int total = past + t;
        for (int j = 0; j < t; j++) {
            int query = past + j;
            int lo = (int) Math.max(pad, (long) query - window + 1);
            if (blockedAttention && j + QUERY_BLOCK <= t && lo <= query) {
                // the next queries see at least what this one sees (their ranges start no earlier)
                attendBlock(keys, values, capacity, r * t + j, hd, lo, query, pad, sc, acc);
                j += QUERY_BLOCK - 1;
                continue;
            }
            int i = r * t + j;
            int q = i * qkvDim + hd * headDim;
            int out = i * qDim + hd * headDim;
            int hi = query;
            Arrays.fill(acc, 0f);
            if (lo > hi) {
                // no slot is visible (a padding position): every slot weighs the same, as under the engine's finite mask
                for (int s = 0; s < total; s++) {
                    VectorOps.add(values, s * headDim, acc, 0, headDim);
                }
                float inv = 1f / total;
                for (int d = 0; d < headDim; d++) {
                    attn[out + d] = acc[d] * inv;
                }
                continue;
            }
            int len = hi - lo + 1;
            Arrays.fill(sc, 0, len, 0f);
            for (int d = 0; d < headDim; d++) {
                VectorOps.axpy(qkv[q + d], keys, d * capacity + lo, sc, 0, len);
            }
            float max = VectorOps.max(sc, 0, len);
            float sum = VectorOps.expShifted(sc, 0, len, max);
            for (int s = 0; s < len; s++) {
                VectorOps.axpy(sc[s], values, (lo + s) * headDim, acc, 0, headDim);
            }
            float inv = 1f / sum;
            for (int d = 0; d < headDim; d++) {
                attn[out + d] = acc[d] * inv;
            }
        }
    }

    /**
     * Four consecutive queries of one head at once ({@value #QUERY_BLOCK}; the first at chunk row {@code i}, slot
     * {@code query}, seeing slots {@code [lo, query]}): each key and value vector loaded serves all four, and the
     * scores of a group of slots are summed in registers over the head dimension. Their scores take
     * {@code 4 x (slots seen)} floats of {@code sc}; {@code inv} (at least 4 floats) holds their normalizers.
     */
    private void attendBlock(float[] keys, float[] values, int capacity, int i, int hd, int lo, int query, int pad,
                             float[] sc, float[] inv) {
        VectorSpecies<Float> species = VectorOps.S;
        int lanes = species.length();
        int len = query + QUERY_BLOCK - lo;
        int q0 = i * qkvDim + hd * headDim;
        int q1 = q0 + qkvDim;
        int q2 = q1 + qkvDim;
        int q3 = q2 + qkvDim;
        int s = 0;
        for (; s <= len - lanes; s += lanes) {
            FloatVector a0 = FloatVector.zero(species);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int k = lo + s;
            for (int d = 0; d < headDim; d++) {
                FloatVector kv = FloatVector.fromArray(species, keys, d * capacity + k);
                a0 = kv.fma(FloatVector.broadcast(species, qkv[q0 + d]), a0);
                a1 = kv.fma(FloatVector.broadcast(species, qkv[q1 + d]), a1);
                a2 = kv.fma(FloatVector.broadcast(species, qkv[q2 + d]), a2);
                a3 = kv.fma(FloatVector.broadcast(species, qkv[q3 + d]), a3);
            }
            a0.intoArray(sc, s);
            a1.intoArray(sc, len + s);
            a2.intoArray(sc, 2 * len + s);
            a3.intoArray(sc, 3 * len + s);
        }
        for (; s < len; s++) {
            float d0 = 0;
            float d1 = 0;
            float d2 = 0;
            float d3 = 0;
            for (int d = 0; d < headDim; d++) {
                float kv = keys[d * capacity + lo + s];
                d0 += qkv[q0 + d] * kv;
                d1 += qkv[q1 + d] * kv;
                d2 += qkv[q2 + d] * kv;
                d3 += qkv[q3 + d] * kv;
            }
            sc[s] = d0;
            sc[len + s] = d1;
            sc[2 * len + s] = d2;
            sc[3 * len + s] = d3;
        }
        for (int b = 0; b < QUERY_BLOCK; b++) {
            int slot = query + b;
            int from = (int) Math.max(pad, (long) slot - window + 1) - lo;
            int to = slot - lo + 1;
            int row = b * len;
            float max = VectorOps.max(sc, row + from, to - from);
            inv[b] = 1f / VectorOps.expShifted(sc, row + from, to - from, max);
            // slots this query does not see weigh nothing in the shared sum below
            Arrays.fill(sc, row, row + from, 0f);
            Arrays.fill(sc, row + to, row + len, 0f);
        }
        for (int dv = 0; dv < headDim; dv += lanes) {
            FloatVector a0 = FloatVector.zero(species);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int x = 0; x < len; x++) {
                FloatVector v = FloatVector.fromArray(species, values, (lo + x) * headDim + dv);
                a0 = v.fma(FloatVector.broadcast(species, sc[x]), a0);
                a1 = v.fma(FloatVector.broadcast(species, sc[len + x]), a1);
                a2 = v.fma(FloatVector.broadcast(species, sc[2 * len + x]), a2);
                a3 = v.fma(FloatVector.broadcast(species, sc[3 * len + x]), a3);
            }
            int out = i * qDim + hd * headDim + dv;
            a0.mul(inv[0]).intoArray(attn, out);
            a1.mul(inv[1]).intoArray(attn, out + qDim);
            a2.mul(inv[2]).intoArray(attn, out + 2 * qDim);
            a3.mul(inv[3]).intoArray(attn, out + 3 * qDim);
        }
    }

    /**
     * Hugging Face's rotate_half rotation of one head at {@code a[off...]}: column j of the first half becomes
     * {@code x_j cos - x_{j+half} sin}, column j + half becomes {@code x_{j+half} cos + x_j sin}.
     */
    private void rotate(float[] a, int off, int table) {
        for (int f = 0; f < half; f++) {
            float c = cos[table + f];
            float s = sin[table + f];
            float x1 = a[off + f];
            float x2 = a[off + f + half];
            a[off + f] = x1 * c - x2 * s;
            a[off + f + half] = x2 * c + x1 * s;
        }
    }

    private void norm(float[] in, int inOff, float[] weight, float[] bias, float[] out, int outOff) {
        if (gpt2) {
            float mean = VectorOps.sum(in, inOff, hidden) / hidden;
            float var = VectorOps.sumOfSquaredDeviations(in, inOff, hidden, mean) / hidden;
            float s = (float) (1.0 / Math.sqrt(var + eps));
            VectorOps.centerScaleShift(in, inOff, mean, s, weight, bias, out, outOff, hidden);
        } else {
            rmsNorm(in, inOff, weight, out, outOff, hidden);
        }
    }

    /** RMSNorm of {@code width} values (in place when {@code in == out} and the offsets are equal). */
    private void rmsNorm(float[] in, int inOff, float[] weight, float[] out, int outOff, int width) {
        float mean = VectorOps.sumOfSquares(in, inOff, width) / width;
        float s = (float) (1.0 / Math.sqrt(mean + eps));
        VectorOps.scaleByWeight(in, inOff, s, weight, out, outOff, width);
    }

    private void activate(float[] a, int off, int len) {
        switch (activation) {
            case SILU -> VectorOps.silu(a, off, len);
            case GELU_TANH -> VectorOps.geluTanh(a, off, len);
            case GELU_ERF -> VectorOps.geluErf(a, off, len);
            case RELU -> VectorOps.relu(a, off, len);
        }
    }

    private static void addBias(float[] y, int n, int width, float[] bias) {
        if (bias == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            VectorOps.add(bias, 0, y, i * width, width);
        }
    }

    /**
     * {@code y[c, r] = sum_i W[r, i] * x[c, i]} with the Java kernels ({@link WeightMatrix#multiply}): the rows of W
     * in pieces of whole tiles that the pool's threads claim until none are left (a thread the machine does not
     * schedule in time is not waited for).
     */
    private void product(LinearWeight weight, float[] in, int n, float[] y) {
        int rows = weight.rows();
        WeightMatrix matrix = weight.matrix();
        // a kernel call prepares its whole input (BF16/F16 reorder it, many columns pack it): few pieces for many columns
        int perThread = n > 2 ? 1 : PIECES_PER_THREAD;
        int pieces = (int) Math.max(1, Math.min((long) workers.threads() * perThread, rows / MIN_PIECE_ROWS));
        if (pieces == 1 || workers.threads() == 1) {
            matrix.multiply(in, n, y, 0, rows);
            return;
        }
        next.set(0);
        workers.runShared(() -> {
            for (int p = next.getAndIncrement(); p < pieces; p = next.getAndIncrement()) {
                int from = p == 0 ? 0 : pieceStart(rows, p, pieces);
                int to = p == pieces - 1 ? rows : pieceStart(rows, p + 1, pieces);
                if (to > from) {
                    matrix.multiply(in, n, y, from, to);
                }
            }
        });
    }

    /** Where piece {@code p} of {@code pieces} starts: a multiple of {@link LinearWeight#ROW_ALIGN}. */
    private static int pieceStart(int rows, int p, int pieces) {
        return (int) Math.min(rows, ((long) rows * p / pieces) / LinearWeight.ROW_ALIGN * LinearWeight.ROW_ALIGN);
    }

    private void probe() {
        if (probe != null) {
            probe.run();
        }
    }

    /**
     * Kept for the interface: this pass computes one query's scores at a time per thread, which is below any budget
     * of at least one slot.
     */
    @Override
    public void attentionBlockBytes(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("attentionBlockBytes must be >= 1, got " + bytes);
        }
    }

    @Override
    public void probe(Runnable probe) {
        this.probe = probe;
    }

    @Override
    public long heapBytesHeld() {
        long floats = (long) x.length + h.length + qkv.length + attn.length + proj.length + up.length + act.length
                + cos.length + sin.length + groupLogits.length;
        for (int p = 0; p < scores.length; p++) {
            floats += scores[p].length + accumulators[p].length;
        }
        KvCache c = running;
        return 4L * floats + (c == null ? 0 : c.bytes());
    }

    /** None: the logits are computed straight into the caller's arrays. */
    @Override
    public long copyNanos() {
        return 0;
    }
}
