package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.Activation;
import io.github.amulet4j.transformer.ForwardPass;
import io.github.amulet4j.transformer.KvCache;
import io.github.amulet4j.transformer.RowSplitPool;
import io.github.amulet4j.transformer.WeightFootprint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.LongRope;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.nio.FloatBuffer;

/**
 * The forward pass on the engine (PyTorch through DJL), for weights held by the engine: {@code linearKernel ENGINE},
 * float16/bfloat16 compute and GPUs ({@link JavaForward} runs everything else). It reads and extends an
 * {@link EngineKvCache}, in chunks of
 * tokens with a scope per chunk and per layer: a layer's temporaries are freed when the layer is done, so memory
 * does not grow with the number of layers, and the attention scores of a chunk are {@code [B, heads, chunk, slots]}.
 *
 * <p>Linear layers are computed as {@code W[out, in] @ X^T[in, N]}: with the weight as left operand a
 * second stream costs almost nothing in a decode step (measured for issue 5), while {@code X @ W^T}
 * costs twice as much for two rows.
 */
final class TransformerForward implements ForwardPass {

    /**
     * Most bytes of float32 attention scores computed at once (one block of queries; the probabilities take as much
     * again): 64 MiB keeps two streams of an 8,192-token prompt on Qwen2.5-0.5B at blocks of about 70 queries.
     */
    static final long ATTENTION_BLOCK_BYTES = 64L << 20;

    /** Additive mask for keys a query must not see; finite so that fully masked rows give no NaN. */
    private static final float MASKED = -1e30f;

    private final ModelConfig config;
    private final EngineWeights w;
    /** Owns the weights; each cache and each call's temporaries live in a sub-manager of it. */
    private final NDManager manager;
    private final DataType type;
    private final float[] invFreq;
    /** Longrope's inverse frequencies for rows longer than {@link #ropeSwitch}; null without longrope. */
    private final float[] longInvFreq;
    /** Rows longer than this many tokens use {@link #longInvFreq}. */
    private final int ropeSwitch;
    /** Longrope's attention factor on cos and sin (1 otherwise). */
    private final float ropeScale;
    /** Half the rotated dimensions of a head (partial rotary: fewer than headDim / 2). */
    private final int rotHalf;
    /** Per row of the call in flight: whether its sequence is long enough for longrope's long factors. */
    private boolean[] longRows = new boolean[0];
    private final boolean gpt2;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int qDim;
    private final int kvDim;
    private final int hidden;
    private final int vocab;
    private final float eps;
    private final Activation activation;
    /** Gemma 3's rotary frequencies of its sliding layers; null when every layer uses {@link #invFreq}. */
    private final float[] invFreqLocal;
    private final RowSplitPool workers;
    /** Time spent copying logits from the engine into Java arrays, for {@link io.github.amulet4j.transformer.DecoderLm#logitsCopyNanos()}. */
    private long copyNanos;
    private Runnable probe;
    /** See {@link #attentionBlockBytes(long)}; {@link #ATTENTION_BLOCK_BYTES} by default. */
    private long attentionBlockBytes = ATTENTION_BLOCK_BYTES;

    /**
     * @param workers threads that share each linear product by row blocks of the weights (see {@link RowSplitPool})
     */
    TransformerForward(ModelConfig config, EngineWeights weights, NDManager manager, DataType type, float[] invFreq,
                       RowSplitPool workers) {
        this.config = config;
        this.manager = manager;
        this.workers = workers;
        this.w = weights;
        this.type = type;
        this.invFreq = invFreq;
        LongRope longRope = LongRope.applies(config) ? LongRope.of(config) : null;
        this.longInvFreq = longRope == null ? null : longRope.longInverseFrequencies();
        this.ropeSwitch = longRope == null ? Integer.MAX_VALUE : longRope.switchLength();
        this.ropeScale = longRope == null ? 1f : longRope.attentionFactor();
        this.rotHalf = config.rotaryDim() / 2;
        this.gpt2 = config.isGpt2();
        this.heads = config.numHeads();
        this.kvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        this.qDim = heads * headDim;
        this.kvDim = kvHeads * headDim;
        this.hidden = config.hiddenSize();
        this.vocab = config.vocabSize();
        this.eps = (float) config.normEps();
        this.activation = Activation.of(config);
        this.invFreqLocal = RotaryFrequencies.localInverseFrequencies(config);
    }

    /** The call's temporaries live in a sub-manager and an {@link NDScope} closed when it ends: memory stays flat. */
    @Override
    public void run(int[][] tokens, int[] pad, KvCache cache, int chunk, float[] last) {
        try (NDManager step = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            run(step, tokens, pad, (EngineKvCache) cache, chunk, last, null);
        }
    }

    @Override
    public void runAll(int[][] tokens, int[] pad, KvCache cache, int chunk, float[][] every) {
        try (NDManager step = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            run(step, tokens, pad, (EngineKvCache) cache, chunk, null, every);
        }
    }

    /** A cache in a sub-manager of the model's, freed when the cache is closed. */
    @Override
    public KvCache newCache(int batch, int capacity) {
        NDManager owner = manager.newSubManager();
        try {
            return new EngineKvCache(owner, config.numLayers(), batch, kvHeads, headDim, capacity, type);
        } catch (RuntimeException | Error e) {
            owner.close();
            throw e;
        }
    }

    /**
     * The prompt goes through the layers in chunks of at most {@code chunk} tokens per row, each chunk reading the
     * keys and values the earlier ones left in the cache, so attention scores never exceed
     * {@code [B, heads, chunk, slots]}. Each chunk's temporaries are freed when the chunk is done and each layer's
     * when the layer is done: memory does not grow with the number of layers, and only linearly with the prompt.
     */
    private void run(NDManager step, int[][] tokens, int[] pad, EngineKvCache cache, int chunk, float[] last,
                     float[][] every) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        int t = tokens[0].length;
        // longrope rotates a whole row with the factors its length after this call calls for (as a fresh pass would)
        longRows = new boolean[tokens.length];
        for (int r = 0; r < tokens.length; r++) {
            longRows[r] = (long) cache.used() + t - pad[r] > ropeSwitch;
        }
        cache.reserve(t);
        for (int start = 0; start < t; start += chunk) {
            int end = (int) Math.min(t, (long) start + chunk);
            try (NDScope chunkScope = new NDScope()) {
                chunkScope.suppressNotUsedWarning();
                runChunk(step, tokens, pad, cache, start, end, end == t ? last : null, every);
            }
        }
    }

    /** Tokens {@code [start, end)} of every row through every layer; logits only where asked for. */
    private void runChunk(NDManager step, int[][] tokens, int[] pad, EngineKvCache cache, int start, int end, float[] last,
                          float[][] every) {
        int b = tokens.length;
        int t = end - start;
        int past = cache.used();
        int total = past + t;
        int n = Math.multiplyExact(b, t);

        long[] ids = new long[n];
        long[] pos = new long[n];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                ids[r * t + j] = tokens[r][start + j];
                pos[r * t + j] = Math.max(0, past + j - pad[r]);
            }
        }
        NDArray x = w.embed.get(new NDIndex("{}", step.create(ids)));
        if (config.isGemma()) {
            // Gemma: sqrt(hidden) in the model's dtype
            x = x.mul(step.create(GemmaConfig.embeddingScale(hidden, config.torchDtype())).toType(type, false));
        }
        NDArray cos = null;
        NDArray sin = null;
        NDArray[] localTable = invFreqLocal == null ? null : rotaryTables(step, pos, b, t, invFreqLocal);
        if (gpt2) {
            x = x.add(w.positions.get(new NDIndex("{}", step.create(pos))));
        } else {
            NDArray[] table = rotaryTables(step, pos, b, t, invFreq);
            cos = table[0];
            sin = table[1];
        }
        int groups = heads / kvHeads;
        NDArray mask = mask(step, pad, b, t, past, total, config.slidingWindow());
        // Gemma: the sliding layers' mask beside the global layers' (config.slidingWindow() is null for Gemma)
        NDArray localMask = config.isGemma() && config.gemma().slidingWindow() != null
                ? mask(step, pad, b, t, past, total, config.gemma().slidingWindow()) : mask;
        // Scalars as arrays made once per chunk: an op with a Java number creates and frees a tensor each call.
        NDArray scale = step.create(config.isGemma() ? (float) Math.pow(config.gemma().queryPreAttnScalar(), -0.5)
                : (float) (1.0 / Math.sqrt(headDim)));
        NDArray epsArray = step.create(eps);

        for (int l = 0; l < w.layers.size(); l++) {
            EngineWeights.Layer layer = w.layers.get(l);
            NDArray next;
            try (NDScope layerScope = new NDScope()) {
                layerScope.suppressNotUsedWarning();
                boolean local = config.isGemma() && config.gemma().localRope(l);
                next = layer(step, layer, l, x, local ? localTable[0] : cos, local ? localTable[1] : sin,
                        config.isGemma() && config.slidingWindow(l) != null ? localMask : mask, scale, epsArray,
                        cache, b, t, total, groups);
                NDScope.unregister(next);
            }
            // the layer's input is no longer needed; its output outlives the layer's scope
            x.close();
            x = next;
            probe();
        }
        cache.advance(t);

        if (every == null && last == null) {
            x.close();
            return;
        }
        NDArray rowsIn = every != null ? x : x.reshape(b, t, hidden).get(new NDIndex(":, -1, :"));
        NDArray normed = norm(rowsIn, w.finalNorm, w.finalNormBias, epsArray);
        int rows = every != null ? n : b;
        float[] logits = every != null ? new float[Math.multiplyExact(rows, vocab)] : last;
        // [vocab, rows]: the head as left operand, so extra rows are nearly free.
        NDArray logitsT = product(step, w.head, normed.transpose());
        if (type != DataType.FLOAT32) {
            logitsT = logitsT.toType(DataType.FLOAT32, false);
        }
        if (config.isGemma() && config.gemma().finalLogitSoftcapping() != null) {
            logitsT = softcap(logitsT, config.gemma().finalLogitSoftcapping().floatValue());
        }
        long c0 = System.nanoTime();
        copyTransposed(logitsT, rows, logits);
        copyNanos += System.nanoTime() - c0;
        probe();
        x.close();
        if (every != null) {
            int whole = tokens[0].length;
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < t; j++) {
                    System.arraycopy(logits, (r * t + j) * vocab, every[r * whole + start + j], 0, vocab);
                }
            }
        }
    }

    /** One decoder layer over a chunk: returns the new hidden states {@code [B * t, hidden]}. */
    private NDArray layer(NDManager step, EngineWeights.Layer layer, int l, NDArray x, NDArray cos, NDArray sin,
                          NDArray mask, NDArray scale, NDArray epsArray, EngineKvCache cache, int b, int t, int total,
                          int groups) {
        int n = b * t;
        NDArray h = norm(x, layer.norm1(), layer.norm1Bias(), epsArray);
        NDArray qkv = linear(step, h, layer.qkv());
        // One split (not three indexed copies): q and k stay together so RoPE runs once for both.
        NDList qkAndV = qkv.split(new long[] {qDim + kvDim}, 1);
        NDArray qk = qkAndV.get(0).reshape(b, t, heads + kvHeads, headDim);
        if (layer.qNorm() != null) {
            NDList parts = qk.split(new long[] {heads}, 2);
            qk = rmsNorm(parts.get(0), layer.qNorm(), epsArray)
                    .concat(rmsNorm(parts.get(1), layer.kNorm(), epsArray), 2);
        }
        if (!gpt2) {
            qk = rotate(qk, cos, sin);
        }
        NDArray v;
        NDList qAndK;
        if (t == 1) {
            // [B, 1, H, D] and [B, H, 1, D] share their memory layout: a reshape replaces the transposes.
            qAndK = qk.reshape(b, heads + kvHeads, 1, headDim).split(new long[] {heads}, 1);
            v = qkAndV.get(1).reshape(b, kvHeads, 1, headDim);
        } else {
            qAndK = qk.transpose(0, 2, 1, 3).split(new long[] {heads}, 1);
            v = qkAndV.get(1).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3);
        }
        // the scale on q ([B, H, t, D]) rather than on the scores ([B, H, t, S])
        NDArray q = qAndK.get(0).mul(scale);
        NDArray k = qAndK.get(1);
        cache.write(l, k, v);
        NDArray keys = cache.keys(l, total);
        NDArray values = cache.values(l, total);

        NDArray attn = attention(q, keys.transpose(0, 1, 3, 2), values, mask, b, t, total, groups);
        attn = t == 1 ? attn.reshape(n, qDim) : attn.transpose(0, 2, 1, 3).reshape(n, qDim);
        NDArray attnOut = linear(step, attn, layer.out());
        if (layer.postAttentionNorm() != null) {
            attnOut = rmsNorm(attnOut, layer.postAttentionNorm(), epsArray);
        }
        NDArray x1 = x.add(attnOut);

        NDArray h2 = norm(x1, layer.norm2(), layer.norm2Bias(), epsArray);
        NDArray up = linear(step, h2, layer.up());
        NDArray act;
        if (gpt2) {
            act = activate(up);
        } else {
            int inter = config.intermediateSize();
            NDList gateAndLin = up.split(new long[] {inter}, 1);
            act = activate(gateAndLin.get(0)).mul(gateAndLin.get(1));
        }
        NDArray mlpOut = linear(step, act, layer.down());
        if (layer.postFeedforwardNorm() != null) {
            mlpOut = rmsNorm(mlpOut, layer.postFeedforwardNorm(), epsArray);
        }
        return x1.add(mlpOut);
    }

    /**
     * Attention of queries {@code q [B, heads, t, D]} (scaled) over keys {@code [B, kvHeads, D, S]} and values
     * {@code [B, kvHeads, S, D]}: {@code [B, heads, t, D]}. The queries go in blocks whose float32 scores take at most
     * {@link #attentionBlockBytes} (all of them at once when they fit), so a long prompt's scores stay bounded whatever
     * the chunk.
     */
    private NDArray attention(NDArray q, NDArray keysT, NDArray values, NDArray mask, int b, int t, int total,
                              int groups) {
        long rowBytes = 4L * b * heads * total;
        int block = (int) Math.max(1, Math.min(t, attentionBlockBytes / rowBytes));
        if (block >= t) {
            return attendBlock(q, keysT, values, mask, b, t, total, groups);
        }
        NDList parts = new NDList();
        for (int j0 = 0; j0 < t; j0 += block) {
            int j1 = Math.min(t, j0 + block);
            NDArray out;
            try (NDScope blockScope = new NDScope()) {
                blockScope.suppressNotUsedWarning();
                NDArray qb = q.get(new NDIndex(":, :, {}:{}, :", j0, j1));
                NDArray mb = mask == null ? null : mask.get(new NDIndex(":, :, :, {}:{}, :", j0, j1));
                out = attendBlock(qb, keysT, values, mb, b, j1 - j0, total, groups);
                NDScope.unregister(out);
            }
            parts.add(out);
        }
        return NDArrays.concat(parts, 2);
    }

    /** {@link #attention} for one block of {@code t} queries. */
    private NDArray attendBlock(NDArray q, NDArray keysT, NDArray values, NDArray mask, int b, int t, int total,
                                int groups) {
        // [B, kvHeads, groups * t, S]: the queries of a group of heads share their key head
        NDArray scores = q.reshape(b, kvHeads, (long) groups * t, headDim).matMul(keysT);
        if (type != DataType.FLOAT32) {
            NDArray wide = scores.toType(DataType.FLOAT32, false);
            scores.close();
            scores = wide;
        }
        if (config.isGemma() && config.gemma().attnLogitSoftcapping() != null) {
            NDArray capped = softcap(scores, config.gemma().attnLogitSoftcapping().floatValue());
            scores.close();
            scores = capped;
        }
        if (mask != null) {
            // [B, 1, 1, t, S] broadcast over the key heads and the heads of each group
            try (NDArray view = scores.reshape(b, kvHeads, groups, t, total)) {
                view.addi(mask);
            }
        }
        NDArray probs = scores.softmax(-1);
        probe();
        scores.close();
        if (type != DataType.FLOAT32) {
            NDArray narrow = probs.toType(type, false);
            probs.close();
            probs = narrow;
        }
        NDArray attn = probs.matMul(values);
        probs.close();
        return attn.reshape(b, heads, t, headDim);
    }

    /** Most bytes of float32 attention scores for one block of queries (a test seam: tests lower it to force many blocks). */
    void attentionBlockBytes(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("attentionBlockBytes must be >= 1, got " + bytes);
        }
        this.attentionBlockBytes = bytes;
    }

    /** Tells the test probe, if any, that a peak of temporaries may be live now. */
    private void probe() {
        if (probe != null) {
            probe.run();
        }
    }

    /** A callback run where the pass's temporaries peak (a test seam for memory tests). */
    void probe(Runnable probe) {
        this.probe = probe;
    }

    @Override
    public int logitsWidth() {
        return vocab;
    }

    @Override
    public long copyNanos() {
        return copyNanos;
    }

    @Override
    public WeightFootprint footprint() {
        return new WeightFootprint(w.engineBytes(), 0, 0, w.linearBytes(), "", type.getNumOfBytes());
    }

    /** Stops the product threads and frees the weights. */
    @Override
    public void close() {
        workers.close();
        manager.close();
    }

    /** Copies a contiguous {@code [vocab, rows]} float32 array into {@code out} as {@code [rows, vocab]}. */
    private void copyTransposed(NDArray logitsT, int rows, float[] out) {
        FloatBuffer fb = logitsT.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        if (rows == 1) {
            fb.get(out, 0, vocab);
            return;
        }
        float[] tmp = new float[Math.multiplyExact(vocab, rows)];
        fb.get(tmp);
        for (int v = 0; v < vocab; v++) {
            int base = v * rows;
            for (int r = 0; r < rows; r++) {
                out[r * vocab + v] = tmp[base + r];
            }
        }
    }

    /**
     * {@code x[N, in] -> [N, out]} computed as {@code (W @ x^T)^T}. The result is copied to row-major
     * (a reshape through one axis forces the copy; DJL has no {@code contiguous()}): the next linear layer
     * is only fast when its input is row-major {@code [N, in]}, so that {@code x^T} is column-major.
     */
    private NDArray linear(NDManager step, NDArray x, EngineLinear weight) {
        long n = x.getShape().get(0);
        NDArray yt = product(step, weight, x.transpose());
        long out = yt.getShape().get(0);
        NDArray y = n == 1 ? yt.reshape(1, out) : yt.transpose().reshape(n * out).reshape(n, out);
        return weight.bias() == null ? y : y.add(weight.bias());
    }

    /**
     * {@code W @ rhs}. A single column (one stream decoding) is a matrix-vector product, which PyTorch runs on one
     * thread: the weight's row blocks then go to the product workers. Several columns are left to PyTorch, whose
     * matrix-matrix kernel threads itself and was measured faster than splitting it further (issue 5).
     */
    private NDArray product(NDManager step, EngineLinear weight, NDArray rhs) {
        NDArray[] blocks = weight.blocks();
        if (blocks.length == 1 || rhs.getShape().get(1) != 1) {
            return weight.weight().matMul(rhs);
        }
        NDArray[] parts = new NDArray[blocks.length];
        Runnable[] tasks = new Runnable[blocks.length];
        for (int i = 0; i < blocks.length; i++) {
            int k = i;
            tasks[i] = () -> parts[k] = blocks[k].matMul(rhs);
        }
        workers.run(tasks); // block 0 on this thread, the others on the workers
        for (int i = 1; i < parts.length; i++) {
            parts[i].attach(step); // computed on a worker: freed with this call's temporaries
        }
        return NDArrays.concat(new NDList(parts), 0);
    }

    private NDArray norm(NDArray x, NDArray weight, NDArray bias, NDArray epsArray) {
        return gpt2 ? layerNorm(x, weight, bias, epsArray) : rmsNorm(x, weight, epsArray);
    }

    /** RMSNorm over the last axis, computed in float32 as Hugging Face does. */
    private NDArray rmsNorm(NDArray x, NDArray weight, NDArray epsArray) {
        NDArray xf = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray inv = xf.square().mean(new int[] {-1}, true).add(epsArray).sqrt();
        NDArray y = xf.div(inv);
        if (type != DataType.FLOAT32) {
            y = y.toType(type, false);
        }
        return y.mul(weight);
    }

    /** LayerNorm over the last axis (biased variance), computed in float32. */
    private NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, NDArray epsArray) {
        NDArray xf = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray centered = xf.sub(xf.mean(new int[] {-1}, true));
        NDArray std = centered.square().mean(new int[] {-1}, true).add(epsArray).sqrt();
        NDArray y = centered.div(std);
        if (type != DataType.FLOAT32) {
            y = y.toType(type, false);
        }
        return y.mul(weight).add(bias);
    }

    /** Gemma 2's soft-capping {@code cap * tanh(x / cap)} of float32 scores or logits. */
    private static NDArray softcap(NDArray x, float cap) {
        return x.div(cap).tanh().mul(cap);
    }

    private NDArray activate(NDArray x) {
        return switch (activation) {
            case SILU -> x.mul(x.getNDArrayInternal().sigmoid());
            case GELU_TANH -> {
                NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2.0 / Math.PI));
                yield x.mul(inner.tanh().add(1f)).mul(0.5f);
            }
            case GELU_ERF -> x.mul(x.mul((float) (1.0 / Math.sqrt(2.0))).erf().add(1f)).mul(0.5f);
            case RELU -> x.maximum(0f);
        };
    }

    /**
     * Per position, {@code cos(p * f)} and {@code sin(p * f)} over the head dimension as {@code [B, t, 1, headDim]}
     * (broadcast over the heads), for Hugging Face's rotate_half convention (halves, not interleaved pairs): frequency
     * {@code f_j} serves columns {@code j} and {@code j + half}. The sine table carries rotate_half's sign: minus in the
     * first half, so that {@code x * cos + swapHalves(x) * sin} is the rotation. With a partial rotary factor the
     * halves are those of the first {@code 2 * rotHalf} columns and the rest have cos 1 and sin 0; with longrope the
     * row's frequencies are its length's (for the global {@link #invFreq} only; Gemma 3's local frequencies have no
     * longrope) and cos and sin carry the attention factor.
     */
    private NDArray[] rotaryTables(NDManager step, long[] pos, int b, int t, float[] frequencies) {
        int half = rotHalf;
        int size = Math.multiplyExact(pos.length, headDim);
        float[] c = new float[size];
        float[] s = new float[size];
        for (int i = 0; i < pos.length; i++) {
            float p = pos[i];
            int base = i * headDim;
            float[] freq = frequencies == invFreq && longRows[i / t] ? longInvFreq : frequencies;
            for (int j = 0; j < half; j++) {
                float angle = p * freq[j];
                float cv = (float) Math.cos(angle) * ropeScale;
                float sv = (float) Math.sin(angle) * ropeScale;
                c[base + j] = cv;
                c[base + j + half] = cv;
                s[base + j] = -sv;
                s[base + j + half] = sv;
            }
            Arrays.fill(c, base + 2 * half, base + headDim, 1f);
        }
        Shape shape = new Shape(b, t, 1, headDim);
        NDArray cos = step.create(c, shape);
        NDArray sin = step.create(s, shape);
        return type == DataType.FLOAT32 ? new NDArray[] {cos, sin}
                : new NDArray[] {cos.toType(type, false), sin.toType(type, false)};
    }

    /**
     * {@code x * cos + rotate_half(x) * sin} for {@code x [B, t, heads, headDim]}: column j (first half) becomes
     * {@code x_j cos - x_{j+half} sin}, column j + half becomes {@code x_{j+half} cos + x_j sin}.
     */
    private NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        if (2 * rotHalf < headDim) {
            // partial rotary: the first 2 * rotHalf columns swap halves, the rest (sin 0) stay where they are
            NDList parts = x.split(new long[] {rotHalf, 2L * rotHalf}, 3);
            NDArray swapped = parts.get(1).concat(parts.get(0), 3).concat(parts.get(2), 3);
            return x.mul(cos).addi(swapped.muli(sin));
        }
        NDList halves = x.split(2, 3);
        NDArray swapped = halves.get(1).concat(halves.get(0), 3);
        return x.mul(cos).addi(swapped.muli(sin));
    }

    /**
     * Additive float32 mask {@code [B, 1, 1, t, S]} for the queries at slots {@code [past, past + t)} (broadcast over
     * the key heads and the heads of a group), or null when every query sees every key: a query sees real keys at or
     * before its slot and, with a sliding window, fewer than {@code window} slots behind it (padding precedes both,
     * so slot distance is position distance).
     */
    private static NDArray mask(NDManager step, int[] pad, int b, int t, int past, int total, Integer window) {
        int reach = window == null ? Integer.MAX_VALUE : window;
        float[] m = new float[Math.toIntExact((long) b * t * total)];
        boolean any = false;
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                int query = past + j;
                int row = (r * t + j) * total;
                for (int s = 0; s < total; s++) {
                    if (s < pad[r] || s > query || query - s >= reach) {
                        m[row + s] = MASKED;
                        any = true;
                    }
                }
            }
        }
        return any ? step.create(m, new Shape(b, 1, 1, t, total)) : null;
    }
}
