package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.LongRope;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.weights.WeightFormat;


import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.QuantizedInput;
import io.github.amulet4j.transformer.weights.WeightCache;
import io.github.amulet4j.transformer.weights.WeightMatrix;
import io.github.amulet4j.transformer.weights.WeightSlabs;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole forward pass on float arrays, for weights held for the Java kernels (CPU, float32): embeddings from the
 * Java-held table, norms, rotary embeddings from cos/sin of the inverse frequencies, attention over a
 * {@link JavaKvCache}, activations and residual adds with the Java Vector API ({@link VectorOps}), and every linear
 * layer through {@link WeightMatrix#multiply} with the weight's rows split over the {@link RowSplitPool} threads.
 * The contract of {@link ForwardPass}: left-padded rows with a per-row padding, the prompt in chunks of
 * {@code chunk} tokens through the cache, logits of the last or of every position.
 *
 * <p>Memory: the activations of one chunk live in scratch arrays that are reused from one step to the next (they
 * grow to the largest chunk seen and stay), attention computes one query's scores at a time per thread (a slot's
 * worth of floats, never a {@code [T, S]} matrix), so a decode step allocates next to nothing and a long prefill
 * holds the cache plus one chunk's activations. The cache's sliding-window layers hold their window (and a margin)
 * only, not every position ({@link JavaKvCache}); attention reads a layer's arrays from its first slot held.
 *
 * <p>Attention per (row, head), split over the pool's threads; a query sees real slots at or before its own and,
 * with a sliding window, fewer than {@code window} slots behind it. A query that sees no slot at all (a padding
 * position) averages the values of every slot its layer holds, as the engine's finite mask does, so no NaN ever
 * appears (no real position reads its output). A decode step over many slots, whose (row, key head) units are too
 * few for the threads, splits the slots into ranges whose partial softmax results are combined exactly
 * ({@link #splitRanges}). A prefill whose key heads serve more than four heads each takes its queries four at a time
 * ({@link QueryBlockAttention}: each tile of keys and block of values read once for the four), with the bits of the
 * one-query paths.
 */
public final class JavaForward implements ForwardPass {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JavaForward.class);

    private final JavaWeights w;
    private final RowSplitPool workers;
    /** Which thread computes which piece of a product's rows, or of a prefill's activation. */
    private final PieceClaims claims;
    private final float[] invFreq;
    /** Longrope's inverse frequencies for rows longer than {@link #ropeSwitch}; null without longrope. */
    private final float[] longInvFreq;
    /** Rows longer than this many tokens use {@link #longInvFreq}. */
    private final int ropeSwitch;
    /** Longrope's attention factor on cos and sin (1 otherwise). */
    private final float ropeScale;
    /** Half the rotated dimensions of a head (partial rotary: fewer than {@link #half}). */
    private final int rotHalf;
    /** Per row, its padding less the first slot a sliding layer holds ({@link #attention}). */
    private int[] shiftedPad = new int[0];
    /** Per row of the pass in flight: whether its sequence is long enough for longrope's long factors. */
    private boolean[] longRows = new boolean[0];
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
    /** The window of the layer in flight ({@link #layerWindow}); {@code Integer.MAX_VALUE}: none. */
    private int window;
    /** Per layer, its sliding window ({@link ModelConfig#slidingWindow(int)}); {@code Integer.MAX_VALUE}: none. */
    private final int[] layerWindow;
    private final float queryScale;
    /** Gemma's extras: attention and final soft-capping (0: none), the embedding scale, the local rotary frequencies. */
    private final float attnSoftcap;
    private final float finalSoftcap;
    private final float embedScale;
    private final float[] invFreqLocal;
    private final boolean[] localRope;
    private final float[][] postAttentionNorm;
    private final float[][] postFeedforwardNorm;
    private final Activation activation;
    /** Per layer, the norms and biases (null where the model has none). */
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
    /** Gemma 3's local rotary tables (its sliding layers'), beside {@link #cos}/{@link #sin}. */
    private float[] cosLocal = new float[0];
    private float[] sinLocal = new float[0];
    /** Logits of a group of positions for {@link #runAll}. */
    private float[] groupLogits = new float[0];
    /** Per attention task: one query's scores (a slot each) and its output accumulator. */
    private final float[][] scores;
    private final float[][] accumulators;
    /** Per thread of the pool, a prefill's attention for blocks of queries; null where it does not apply. */
    private final QueryBlockAttention[] queryBlocks;

    private Runnable probe;
    /** Whether products the native kernels take (every one, any column count) run on them ({@link Kernels#NATIVE}). */
    private final boolean nativeKernels;
    private final String kernelsLine;
    /** The activations of the product in flight, quantized for the native kernels. */
    private final QuantizedInput quantizedInput = new QuantizedInput();
    /** The next unit of a shared attention to claim, and the threads that joined it. */
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger runners = new AtomicInteger();

    /**
     * Pieces a product of one or two columns is cut into per thread (so that a late thread finds little left to take);
     * each kernel call copies its input once, so more pieces make more garbage.
     */
    static final int PIECES_PER_THREAD = 4;
    /** Fewest weight rows in a piece. */
    static final int MIN_PIECE_ROWS = 64;
    /**
     * Columns below which a native Q8_0/Q4_0 product is cut into {@link #PIECES_PER_THREAD} pieces a thread as one of
     * one or two columns is (a decode step of several streams); a prefill's chunks keep one piece a thread.
     */
    static final int FINE_PIECES_MAX_COLUMNS = 64;
    /** The cache of the pass in flight, for {@link #heapBytesHeld()}. */
    private KvCache running;

    private static final int TILE = JavaKvCache.TILE;

    /** Heads of one query that {@link #attendEight} computes together. */
    static final int HEAD_BLOCK = 8;

    /** Queries of one head that {@link #attendFour} computes together. */
    static final int QUERY_BLOCK = 4;
    /** Whether {@link #attendFour} applies: whole vectors span the head dimension. */
    private final boolean blockedAttention;
    /**
     * Whether the attention that is not split into slot ranges runs in the native library ({@link NativeAttention}:
     * the same bits, fast from a fresh JVM's first prefill): where it is loaded, with blocked attention and no logit
     * soft-capping.
     */
    private boolean nativeAttention;
    /** The precision of the caches {@link #newCache} makes ({@link #kvCachePrecision}). */
    private KvCachePrecision cachePrecision = KvCachePrecision.F32;
    /** Left-padding rows of the chunk in flight ({@link #layerProduct} skips them), its pads, length and first slot. */
    private int paddingRows;
    private int[] chunkPad;
    private int chunkT;
    private int chunkPast;
    /**
     * Per column of a layer product ({@link #layerProduct}): {@link #UNIQUE}, {@link #PADDING}, or the column whose
     * input it repeats bit for bit.
     */
    private int[] columnSource = new int[0];
    /** Whether {@link #layerProduct} multiplies a column that repeats another's input once (tests: false). */
    private boolean sharedColumns = true;
    /** Columns whose products {@link #layerProduct} took from another column with the same input, since made. */
    private long sharedColumnCount;
    private static final int UNIQUE = -1;
    private static final int PADDING = -2;


    /** Positions whose logits {@link #runAll} computes at once (their logits take {@code vocab} floats each). */
    static final int LOGIT_GROUP = 16;

    /** Fewest slots of a range in split-slot decode attention ({@link #splitRanges}). */
    static final int SPLIT_SLOTS = 256;
    /** Units of split-slot decode attention the split aims at per thread. */
    static final int SPLIT_UNITS_PER_THREAD = 4;
    /** Values of one row that one thread activates at a time ({@link #activateRows}): a few microseconds of work. */
    private static final int ACTIVATION_PIECE = 1024;
    /**
     * Fewer values than this are activated on the calling thread: a decode step's few thousand take a few microseconds
     * on the native loops, about what handing pieces to the other threads costs.
     */
    private static final long ACTIVATION_SPLIT_MIN = 65_536;
    private int splitSlots = SPLIT_SLOTS;
    private int splitUnitsPerThread = SPLIT_UNITS_PER_THREAD;
    /**
     * Split-slot attention's partial results per (unit, head of its block): the weighted sum of the values under
     * {@code exp(score - max)} ({@code headDim} floats), the maximum score and the sum of the exponentials.
     */
    private float[] partialValues = new float[0];
    private float[] partialStats = new float[0];

    /**
     * Loads the weights of {@code config} from {@code store} (only read; the caller closes it) for a pass whose products
     * run on {@code threads} threads.
     *
     * @param format the format of the linear weights; null keeps the checkpoint's ({@link JavaWeights#storedFormat})
     */
    public static JavaForward load(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                                   int threads) {
        return load(config, store, checkpoint, format, threads, Kernels.AUTO, null);
    }

    /**
     * As {@link #load(ModelConfig, TensorStore, String, WeightFormat, int)}, with {@code head} in place of the
     * language-model head (null: the model's own): a classification head such as a reward model's {@code score}; the
     * pass's "logits" are then its outputs ({@link #logitsWidth()} of them).
     */
    public static JavaForward load(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                                   int threads, CheckpointTensors.Matrix head) {
        return load(config, store, checkpoint, format, threads, Kernels.AUTO, head);
    }

    /**
     * As {@link #load(ModelConfig, TensorStore, String, WeightFormat, int)}, the products on {@code kernels}
     * (resolved here: {@link Kernels#resolve()}; the Java kernels wherever the native ones do not apply).
     *
     * @throws IllegalStateException for {@link Kernels#NATIVE} without the native library
     */
    public static JavaForward load(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                                   int threads, Kernels kernels) {
        return load(config, store, checkpoint, format, threads, kernels, null);
    }

    /**
     * The general form: {@code kernels} for the products and {@code head} (null: the model's own) as the output head.
     *
     * @throws IllegalStateException for {@link Kernels#NATIVE} without the native library
     */
    public static JavaForward load(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                                   int threads, Kernels kernels, CheckpointTensors.Matrix head) {
        return load(config, store, checkpoint, format, threads, kernels, head, null);
    }

    /**
     * The general form with a weight cache: with the native kernels, the matrices are mapped from {@code cache}'s file
     * for this checkpoint where one was written, else written into one as they load
     * ({@link io.github.amulet4j.transformer.weights.WeightSlabs#cached}); null, or the Java kernels: no cache.
     *
     * @throws IllegalStateException for {@link Kernels#NATIVE} without the native library
     */
    public static JavaForward load(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                                   int threads, Kernels kernels, CheckpointTensors.Matrix head, WeightCache cache) {
        Kernels resolved = kernels.resolve();
        float[] invFreq = RotaryFrequencies.inverseFrequencies(config);
        JavaWeights weights;
        if (resolved == Kernels.NATIVE) {
            // with the native kernels the matrices they multiply live off the heap (one copy, read at their addresses)
            String settings = "format " + format + ", head " + (head == null ? "none" : head.rows() + "x" + head.cols())
                    + ", " + config;
            try {
                weights = loadOffHeap(config, store, checkpoint, format, head, cache, settings);
            } catch (WeightSlabs.WeightCacheMismatchException e) {
                LOG.warn("{}: deleted, the weights are loaded from the checkpoint again", e.getMessage());
                try {
                    java.nio.file.Files.deleteIfExists(e.file());
                } catch (java.io.IOException io) {
                    LOG.warn("could not delete {}: {}", e.file(), io.toString());
                }
                weights = loadOffHeap(config, store, checkpoint, format, head, cache, settings);
            }
        } else {
            weights = new JavaWeights(config, store, checkpoint, format, head, WeightMatrix.Storage.HEAP);
        }
        RowSplitPool workers = new RowSplitPool(threads, "amulet-product");
        try {
            WeightFormat used = weights.layers.get(0).up().matrix().format();
            return new JavaForward(config, weights, invFreq, workers,
                    // each product asks its matrix whether the native kernels take its format (a Q4_K_M file mixes
                    // Q4_K, Q6_K, Q5_0, Q8_0, fused matrices of several): native for every one that can
                    resolved == Kernels.NATIVE, kernels.describe(used));
        } catch (RuntimeException | Error e) {
            workers.close(); // a failed load leaves no thread behind
            throw e;
        }
    }

    /** The weights off the heap, their slabs from {@code cache}'s file (mapped or written) or fresh memory. */
    private static JavaWeights loadOffHeap(ModelConfig config, TensorStore store, String checkpoint,
                                           WeightFormat format, CheckpointTensors.Matrix head, WeightCache cache,
                                           String settings) {
        WeightSlabs slabs = cache == null ? WeightSlabs.anonymous()
                : WeightSlabs.cached(cache.dir(), store.files(), settings, cache.maxBytes());
        try {
            JavaWeights weights = new JavaWeights(config, store, checkpoint, format, head,
                    WeightMatrix.Storage.nativeIn(slabs));
            // Q4_0 in the native kernels' layout: rows interleaved by 8, in place (one copy of the weights)
            weights.interleaveForNativeKernels();
            slabs.finish();
            return weights;
        } catch (RuntimeException | Error e) {
            slabs.abandon();
            throw e;
        }
    }

    JavaForward(ModelConfig config, JavaWeights weights, float[] invFreq, RowSplitPool workers) {
        this(config, weights, invFreq, workers, false, "Java kernels");
    }

    /**
     * @param nativeKernels whether products the native kernels take run on them: each product asks its matrix
     *                      ({@link WeightMatrix#nativeProduct}), so a file of mixed formats runs native where it can
     * @param kernelsLine   which kernels run and why, for the load log
     */
    JavaForward(ModelConfig config, JavaWeights weights, float[] invFreq, RowSplitPool workers, boolean nativeKernels,
                String kernelsLine) {
        this.nativeKernels = nativeKernels;
        this.kernelsLine = kernelsLine;
        this.w = weights;
        this.workers = workers;
        this.claims = new PieceClaims(workers.threads());
        this.invFreq = invFreq;
        LongRope longRope = LongRope.applies(config) ? LongRope.of(config) : null;
        this.longInvFreq = longRope == null ? null : longRope.longInverseFrequencies();
        this.ropeSwitch = longRope == null ? Integer.MAX_VALUE : longRope.switchLength();
        this.ropeScale = longRope == null ? 1f : longRope.attentionFactor();
        this.rotHalf = config.rotaryDim() / 2;
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
        this.vocab = weights.head.rows();
        this.eps = (float) config.normEps();
        this.window = config.slidingWindow() == null ? Integer.MAX_VALUE : config.slidingWindow();
        this.queryScale = config.isGemma() ? (float) Math.pow(config.gemma().queryPreAttnScalar(), -0.5)
                : (float) (1.0 / Math.sqrt(headDim));
        this.layerWindow = new int[layers];
        this.localRope = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            Integer lw = config.slidingWindow(l);
            layerWindow[l] = lw == null ? Integer.MAX_VALUE : lw;
            localRope[l] = config.isGemma() && config.gemma().localRope(l);
        }
        this.invFreqLocal = RotaryFrequencies.localInverseFrequencies(config);
        this.attnSoftcap = config.isGemma() && config.gemma().attnLogitSoftcapping() != null
                ? config.gemma().attnLogitSoftcapping().floatValue() : 0f;
        this.finalSoftcap = config.isGemma() && config.gemma().finalLogitSoftcapping() != null
                ? config.gemma().finalLogitSoftcapping().floatValue() : 0f;
        this.embedScale = config.isGemma() ? GemmaConfig.embeddingScale(hidden, config.torchDtype()) : 1f;
        this.activation = Activation.of(config);
        this.blockedAttention = headDim % VectorOps.S.length() == 0;
        nativeAttention(true);
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
        postAttentionNorm = new float[layers][];
        postFeedforwardNorm = new float[layers][];
        for (int l = 0; l < layers; l++) {
            JavaWeights.Layer layer = weights.layers.get(l);
            norm1[l] = layer.norm1();
            norm1Bias[l] = layer.norm1Bias();
            qkvBias[l] = layer.qkv().bias();
            outBias[l] = layer.out().bias();
            qNorm[l] = layer.qNorm();
            kNorm[l] = layer.kNorm();
            norm2[l] = layer.norm2();
            norm2Bias[l] = layer.norm2Bias();
            upBias[l] = layer.up().bias();
            downBias[l] = layer.down().bias();
            postAttentionNorm[l] = layer.postAttentionNorm();
            postFeedforwardNorm[l] = layer.postFeedforwardNorm();
        }
        finalNorm = weights.finalNorm;
        finalNormBias = weights.finalNormBias;
        positions = weights.positions;
        scores = new float[workers.threads()][0];
        accumulators = new float[workers.threads()][headDim];
        if (blockedAttention && QueryBlockAttention.applies(headDim)) {
            queryBlocks = new QueryBlockAttention[workers.threads()];
            for (int p = 0; p < queryBlocks.length; p++) {
                queryBlocks[p] = new QueryBlockAttention(headDim, qkvDim, qDim, attnSoftcap);
            }
        } else {
            queryBlocks = null;
        }
    }

    @Override
    public void run(int[][] tokens, int[] pad, KvCache cache, int chunk, float[] last) {
        run(tokens, pad, (JavaKvCache) cache, chunk, last, null);
    }

    @Override
    public void runAll(int[][] tokens, int[] pad, KvCache cache, int chunk, float[][] every) {
        run(tokens, pad, (JavaKvCache) cache, chunk, null, every);
    }

    @Override
    public KvCache newCache(int batch, int capacity) {
        return new JavaKvCache(layers, batch, kvHeads, headDim, capacity, layerWindow, cachePrecision);
    }

    /**
     * Makes the caches {@link #newCache} makes from now on hold {@code precision}: {@link KvCachePrecision#F16} only
     * where the native attention runs (the one reader of binary16 caches), else they stay float32.
     *
     * @return null if the caches hold {@code precision}, else why they stay float32 (for a log line)
     */
    String kvCachePrecision(KvCachePrecision precision) {
        java.util.Objects.requireNonNull(precision, "precision");
        String why = precision == KvCachePrecision.F16 ? nativeAttentionAbsence() : null;
        cachePrecision = why == null ? precision : KvCachePrecision.F32;
        return why;
    }

    /** The precision of the caches {@link #newCache} makes. */
    public KvCachePrecision kvCachePrecision() {
        return cachePrecision;
    }

    /**
     * Why the native attention cannot run for this model, or null where it can (the conditions of
     * {@link #nativeAttention(boolean)}, whatever a test set there).
     */
    private String nativeAttentionAbsence() {
        if (attnSoftcap != 0f) {
            return "the model soft-caps its attention logits (Gemma 2), which only the Java attention does";
        }
        if (!NativeAttention.applies(8, 8)) {
            return "the native attention is not loaded (" + (NativeKernels.available()
                    ? "no AVX2 with FMA, or a library built without it" : NativeKernels.unavailableReason()) + ")";
        }
        if (!blockedAttention || !NativeAttention.applies(headDim, TILE)) {
            return "heads of " + headDim + " dimensions over key tiles of " + TILE + " slots (the Vector API's width): "
                    + "the native attention needs multiples of 8";
        }
        return null;
    }

    /** A cache whose sliding-window layers hold every slot as the global ones do (for tests: the bounded one's twin). */
    KvCache newUnboundedCache(int batch, int capacity) {
        return new JavaKvCache(layers, batch, kvHeads, headDim, capacity, null, cachePrecision);
    }

    private void run(int[][] tokens, int[] pad, JavaKvCache cache, int chunk, float[] last, float[][] every) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        int t = tokens[0].length;
        // longrope rotates a whole row with the factors its length after this pass calls for (as a fresh pass would)
        if (longRows == null || longRows.length != tokens.length) {
            longRows = new boolean[tokens.length];
        }
        for (int r = 0; r < tokens.length; r++) {
            longRows[r] = (long) cache.used() + t - pad[r] > ropeSwitch;
        }
        cache.reserve(t);
        running = cache;
        try {
            // a chunk of one token over many slots takes a decode step's split-slot attention, whose sums differ from
            // a prefill's: there, a last chunk of a single token goes with the chunk before, so that a prompt's logits
            // do not depend on where its chunks end (chunks of one token, asked for, stay decode steps)
            boolean merge = chunk > 1 && t > chunk && splitRanges(tokens.length, cache.used() + t) > 1;
            for (int start = 0, end; start < t; start = end) {
                end = (int) Math.min(t, (long) start + chunk);
                if (merge && t - end == 1) {
                    end = t;
                }
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
        cache.makeRoom(t);

        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                int i = r * t + j;
                int pos = Math.max(0, past + j - pad[r]);
                w.embeddingRow(tokens[r][start + j], x, i * hidden);
                if (embedScale != 1f) {
                    VectorOps.scale(x, i * hidden, hidden, embedScale);
                }
                if (invFreqLocal != null) {
                    for (int f = 0; f < rotHalf; f++) {
                        float angle = pos * invFreqLocal[f];
                        cosLocal[i * half + f] = (float) Math.cos(angle);
                        sinLocal[i * half + f] = (float) Math.sin(angle);
                    }
                }
                if (gpt2) {
                    VectorOps.add(positions, pos * hidden, x, i * hidden, hidden);
                } else {
                    float[] freq = longRows[r] ? longInvFreq : invFreq;
                    for (int f = 0; f < rotHalf; f++) {
                        float angle = pos * freq[f];
                        cos[i * half + f] = (float) Math.cos(angle) * ropeScale;
                        sin[i * half + f] = (float) Math.sin(angle) * ropeScale;
                    }
                }
            }
        }
        // with every position's logits asked for, a padding position's are computed as well (as under the engine's
        // finite mask: every slot weighs the same)
        int padding = 0;
        for (int r = 0; r < b && every == null; r++) {
            padding += (int) Math.min(t, Math.max(0, (long) pad[r] - past));
        }
        paddingRows = padding;
        chunkPad = pad;
        chunkT = t;
        chunkPast = past;
        try {
            for (int l = 0; l < layers; l++) {
                layer(l, cache, pad, b, t, past);
                probe();
            }
        } finally {
            paddingRows = 0;
            chunkPad = null;
        }
        cache.advance(t);

        if (last != null) {
            for (int r = 0; r < b; r++) {
                norm(x, (r * t + t - 1) * hidden, finalNorm, finalNormBias, h, r * hidden);
            }
            product(w.head, h, b, last);
            SoftCapping.apply(last, 0, b * vocab, finalSoftcap);
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
                SoftCapping.apply(groupLogits, 0, rows * vocab, finalSoftcap);
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
        if (invFreqLocal != null) {
            cosLocal = new float[cos.length];
            sinLocal = new float[cos.length];
        }
        scratchRows = n;
    }

    /** One decoder layer over the chunk's {@code b * t} rows of {@link #x}, in place. */
    private void layer(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int n = b * t;
        JavaWeights.Layer layer = w.layers.get(l);
        window = layerWindow[l];
        float[] layerCos = localRope[l] ? cosLocal : cos;
        float[] layerSin = localRope[l] ? sinLocal : sin;
        for (int i = 0; i < n; i++) {
            norm(x, i * hidden, norm1[l], norm1Bias[l], h, i * hidden);
        }
        layerProduct(layer.qkv(), h, n, qkv);
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
                        rotate(qkv, base + hd * headDim, i * half, layerCos, layerSin);
                    }
                }
                VectorOps.scale(qkv, base, qDim, queryScale);
                // a sliding layer's arrays start at its first slot held
                int slot = past + j - cache.start(l);
                for (int kh = 0; kh < kvHeads; kh++) {
                    cache.write(l, r, kh, slot, qkv, base + qDim + kh * headDim, base + qDim + kvDim + kh * headDim);
                }
            }
        }
        attentionOverHeld(l, cache, pad, b, t, past);
        probe();
        layerProduct(layer.out(), attn, n, proj);
        addBias(proj, n, hidden, outBias[l]);
        postNorm(postAttentionNorm[l], n);
        VectorOps.add(proj, 0, x, 0, n * hidden);

        for (int i = 0; i < n; i++) {
            norm(x, i * hidden, norm2[l], norm2Bias[l], h, i * hidden);
        }
        layerProduct(layer.up(), h, n, up);
        addBias(up, n, upRows, upBias[l]);
        activateRows(n);
        layerProduct(layer.down(), gpt2 ? up : act, n, proj);
        addBias(proj, n, hidden, downBias[l]);
        postNorm(postFeedforwardNorm[l], n);
        VectorOps.add(proj, 0, x, 0, n * hidden);
    }

    /** Gemma's norm on a sublayer's output ({@link #proj}, {@code n} rows) before the residual add; none when null. */
    private void postNorm(float[] weight, int n) {
        if (weight == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            rmsNorm(proj, i * hidden, weight, proj, i * hidden, hidden);
        }
    }

    /**
     * {@link #attention} over the slots layer {@code l} holds: a sliding layer's arrays start at its first slot held
     * ({@link JavaKvCache#start}), so slots and padding become indices into them.
     */
    private void attentionOverHeld(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int off = cache.start(l);
        if (off == 0) {
            attention(l, cache, pad, b, t, past);
            return;
        }
        if (shiftedPad.length != b) {
            shiftedPad = new int[b];
        }
        for (int r = 0; r < b; r++) {
            shiftedPad[r] = pad[r] - off;
        }
        attention(l, cache, shiftedPad, b, t, past - off);
    }

    /**
     * Attention of the chunk's queries (rotated and scaled, in {@link #qkv}) over slots {@code [0, past + t)} of the
     * cache, into {@link #attn}. The threads of the pool claim units of one row and up to {@value #QUERY_BLOCK} heads
     * that share a key head (up to {@value #HEAD_BLOCK} in a decode step, {@value #QUERY_BLOCK} in a prefill); a
     * decode step over many slots splits them into ranges ({@link #splitAttention}).
     */
    private void attention(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int total = past + t;
        int ranges = t == 1 ? splitRanges(b, total) : 1;
        if (ranges > 1) {
            splitAttention(l, cache, pad, b, past, ranges);
            return;
        }
        if (nativeAttention || cache.half()) {
            // (a float16 cache is made only where the native attention runs, its one reader)
            attendNative(l, cache, pad, b, t, past);
            return;
        }
        if (t >= QUERY_BLOCK && groups > QUERY_BLOCK && blockedAttention) {
            prefillByQuery(l, cache, pad, b, t, past);
            return;
        }
        // a decode step takes up to eight heads of a key head at once (one read of its keys and values) where that
        // leaves at least two units per thread to balance the threads; otherwise, and in a prefill, four
        boolean eights = t < QUERY_BLOCK
                && (long) b * kvHeads * ((groups + HEAD_BLOCK - 1) / HEAD_BLOCK) >= 2L * workers.threads();
        int unitHeads = eights ? HEAD_BLOCK : QUERY_BLOCK;
        int unitsPerKeyHead = (groups + unitHeads - 1) / unitHeads;
        int perRow = kvHeads * unitsPerKeyHead;
        int units = b * perRow;
        ensureScores(total);
        next.set(0);
        runners.set(0);
        workers.runShared(() -> {
            int me = runners.getAndIncrement();
            float[] sc = scores[me];
            float[] acc = accumulators[me];
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                int r = u / perRow;
                int kh = (u % perRow) / unitsPerKeyHead;
                int first = kh * groups + (u % unitsPerKeyHead) * unitHeads;
                int count = Math.min(unitHeads, (kh + 1) * groups - first);
                attendHeads(l, cache, r, kh, first, count, pad[r], t, past, sc, acc);
            }
        });
    }

    /**
     * {@link #attention} in the native library ({@link NativeAttention}, the same bits): units of one row, one key head
     * with all its heads and a range of the chunk's queries (enough ranges for {@value #SPLIT_UNITS_PER_THREAD} units
     * a thread), claimed by the pool's threads.
     */
    private void attendNative(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        long base = (long) b * kvHeads;
        int ranges = (int) Math.max(1, Math.min(t, ((long) workers.threads() * splitUnitsPerThread + base - 1) / base));
        int perRow = kvHeads * ranges;
        int units = b * perRow;
        int total = past + t;
        ensureScores(total);
        next.set(0);
        runners.set(0);
        workers.runShared(() -> {
            float[] sc = scores[runners.getAndIncrement()];
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                int r = u / perRow;
                int kh = (u % perRow) / ranges;
                int k = u % ranges;
                int j0 = (int) ((long) t * k / ranges);
                int j1 = (int) ((long) t * (k + 1) / ranges);
                if (j1 > j0) {
                    NativeAttention.attendChecked(cache.keyArray(l, r, kh), cache.valueArray(l, r, kh), qkv, attn, sc,
                            headDim, TILE, qkvDim, qDim, r * t + j0, j1 - j0, past + j0, kh * groups, groups, pad[r],
                            window, total);
                }
            }
        });
    }

    /**
     * A prefill's attention where a key head serves more than {@value #QUERY_BLOCK} heads (Qwen2.5-0.5B: seven): each
     * query takes all heads of its key head at once ({@link #attendQueries}), so the keys and values up to a query are
     * read once for seven heads rather than once for four queries of one head, which over a long cached history is
     * most of the prefill's attention. Units of one row, one key head, up to {@value #HEAD_BLOCK} of its heads and a
     * range of the chunk's queries (enough ranges for {@value #SPLIT_UNITS_PER_THREAD} units a thread). A query's
     * sums are those of the other attention paths, in the same order: the result has the same bits.
     */
    private void prefillByQuery(int l, JavaKvCache cache, int[] pad, int b, int t, int past) {
        int blocks = (groups + HEAD_BLOCK - 1) / HEAD_BLOCK;
        long base = (long) b * kvHeads * blocks;
        int ranges = (int) Math.max(1, Math.min(t, ((long) workers.threads() * splitUnitsPerThread + base - 1) / base));
        int perRow = kvHeads * blocks * ranges;
        int units = b * perRow;
        ensureScores(past + t);
        next.set(0);
        runners.set(0);
        workers.runShared(() -> {
            int me = runners.getAndIncrement();
            float[] sc = scores[me];
            float[] acc = accumulators[me];
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                int r = u / perRow;
                int group = (u % perRow) / ranges;
                int k = u % ranges;
                int kh = group / blocks;
                int first = kh * groups + (group % blocks) * HEAD_BLOCK;
                int count = Math.min(HEAD_BLOCK, (kh + 1) * groups - first);
                int j0 = (int) ((long) t * k / ranges);
                int j1 = (int) ((long) t * (k + 1) / ranges);
                attendQueryBlocks(cache.keys(l, r, kh), cache.values(l, r, kh), r, first, count, pad[r], t, past, j0,
                        j1, sc, acc, queryBlocks == null ? null : queryBlocks[me]);
            }
        });
    }

    /**
     * Queries {@code [j0, j1)} of the chunk in row {@code r}, heads {@code [first, first + count)} of one key head:
     * {@value QueryBlockAttention#QUERIES} at a time through {@code blocks} where they see the same first slot and
     * more than {@value #QUERY_BLOCK} heads go together, otherwise one by one ({@link #attendQueries}); the same bits
     * either way.
     */
    private void attendQueryBlocks(float[] keys, float[] values, int r, int first, int count, int pad, int t, int past,
                                   int j0, int j1, float[] sc, float[] acc, QueryBlockAttention blocks) {
        for (int j = j0; j < j1; j += QueryBlockAttention.QUERIES) {
            int n = Math.min(QueryBlockAttention.QUERIES, j1 - j);
            int query = past + j;
            int lo = (int) Math.max(pad, (long) query - window + 1);
            boolean sameStart = (long) query + n - 1 - window + 1 <= pad;
            if (blocks != null && count > QUERY_BLOCK && sameStart && lo <= query) {
                blocks.attend(keys, values, qkv, attn, r * t + j, n, first, count, lo, query);
            } else {
                attendQueries(keys, values, r, first, count, pad, t, past, j, j + n, sc, acc);
            }
        }
    }

    /**
     * How many slot ranges a decode step's attention over {@code total} slots is split into: 1 (today's units of a row
     * and heads of a key head) unless the slots fill two ranges of at least {@link #SPLIT_SLOTS}; then as many ranges
     * as bring the units to {@link #SPLIT_UNITS_PER_THREAD} per thread of the pool, no range shorter than that.
     */
    int splitRanges(int b, int total) {
        if (!blockedAttention) {
            return 1;
        }
        long base = (long) b * kvHeads * ((groups + HEAD_BLOCK - 1) / HEAD_BLOCK);
        long target = (long) workers.threads() * splitUnitsPerThread;
        long wanted = (target + base - 1) / base;
        return (int) Math.max(1, Math.min(wanted, total / splitSlots));
    }

    /** Whether the attention runs in the native library where it can (the default; tests: false, the Java paths). */
    void nativeAttention(boolean on) {
        this.nativeAttention = on && blockedAttention && attnSoftcap == 0f && NativeAttention.applies(headDim, TILE);
    }

    /** For tests: split decode attention into ranges of at least {@code slots} slots, {@code unitsPerThread} a thread. */
    void splitSlots(int slots, int unitsPerThread) {
        if (slots < 1 || unitsPerThread < 1) {
            throw new IllegalArgumentException("slots and unitsPerThread must be >= 1, got " + slots + " and "
                    + unitsPerThread);
        }
        this.splitSlots = slots;
        this.splitUnitsPerThread = unitsPerThread;
    }

    /**
     * Split-slot ("flash-decoding") attention of a decode step: units of one row, up to {@value #HEAD_BLOCK} heads of
     * a key head and one of {@code ranges} ranges of the slots the row's query sees, each leaving per head a partial
     * maximum, sum of exponentials and weighted sum of the values ({@link NativeAttention#attendPartialChecked} where
     * the native attention runs, else {@link #attendEight}: the same bits); {@link #combine} merges them exactly. A
     * row whose query sees no slot (padding) goes the way of {@link #attendHeads}.
     */
    private void splitAttention(int l, JavaKvCache cache, int[] pad, int b, int past, int ranges) {
        int blocks = (groups + HEAD_BLOCK - 1) / HEAD_BLOCK;
        int perRow = kvHeads * blocks * ranges;
        int units = b * perRow;
        ensureScores(past + 1);
        int values = Math.multiplyExact(units, HEAD_BLOCK * headDim);
        if (partialValues.length < values) {
            partialValues = new float[values];
            partialStats = new float[units * 2 * HEAD_BLOCK];
        }
        boolean inNative = nativeAttention || cache.half();
        next.set(0);
        runners.set(0);
        workers.runShared(() -> {
            int me = runners.getAndIncrement();
            float[] sc = scores[me];
            float[] acc = accumulators[me];
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                int r = u / perRow;
                int group = (u % perRow) / ranges;
                int k = u % ranges;
                int kh = group / blocks;
                int first = kh * groups + (group % blocks) * HEAD_BLOCK;
                int count = Math.min(HEAD_BLOCK, (kh + 1) * groups - first);
                int lo = (int) Math.max(pad[r], (long) past - window + 1);
                if (lo > past) {
                    if (k == 0) {
                        attendUnseen(l, cache, r, kh, first, count, pad[r], past, sc, acc, inNative);
                    }
                    continue;
                }
                int from = rangeStart(lo, past, k, ranges);
                int to = rangeStart(lo, past, k + 1, ranges);
                int at = u * 2 * HEAD_BLOCK;
                if (from >= to) {
                    Arrays.fill(partialStats, at + HEAD_BLOCK, at + 2 * HEAD_BLOCK, 0f);
                    continue;
                }
                if (inNative) {
                    NativeAttention.attendPartialChecked(cache.keyArray(l, r, kh), cache.valueArray(l, r, kh), qkv,
                            partialValues, partialStats, sc, headDim, TILE, r * qkvDim + first * headDim, count, from,
                            to, u * HEAD_BLOCK * headDim, at);
                } else {
                    attendEight(cache.keys(l, r, kh), cache.values(l, r, kh), from, to - 1,
                            r * qkvDim + first * headDim, count, sc, partialValues, u * HEAD_BLOCK * headDim,
                            partialStats, at);
                }
            }
        });
        combine(pad, b, past, ranges);
    }

    /**
     * A decode step's query of row {@code r} that sees no slot (padding), heads {@code [first, first + count)} of key
     * head {@code kh}: the mean of the values of all {@code past + 1} slots, in the native library where the attention
     * runs there (a float16 cache's only reader), else by {@link #attendHeads}; the same bits.
     */
    private void attendUnseen(int l, JavaKvCache cache, int r, int kh, int first, int count, int pad, int past,
                              float[] sc, float[] acc, boolean inNative) {
        if (inNative) {
            NativeAttention.attendChecked(cache.keyArray(l, r, kh), cache.valueArray(l, r, kh), qkv, attn, sc, headDim,
                    TILE, qkvDim, qDim, r, 1, past, first, count, pad, window, past + 1);
        } else {
            attendHeads(l, cache, r, kh, first, count, pad, 1, past, sc, acc);
        }
    }

    /** Where range {@code k} of {@code ranges} of slots {@code [lo, query]} starts: on a tile's first slot but the first. */
    private static int rangeStart(int lo, int query, int k, int ranges) {
        if (k == 0) {
            return lo;
        }
        if (k == ranges) {
            return query + 1;
        }
        int p = (int) (lo + (long) (query + 1 - lo) * k / ranges);
        return Math.max(lo, p - p % TILE);
    }

    /**
     * The output of every head from its ranges' partials: with {@code M} the largest partial maximum,
     * {@code sum_k exp(m_k - M) acc_k / sum_k exp(m_k - M) s_k} (empty ranges, {@code s_k = 0}, left out).
     */
    private void combine(int[] pad, int b, int past, int ranges) {
        int blocks = (groups + HEAD_BLOCK - 1) / HEAD_BLOCK;
        int perRow = kvHeads * blocks * ranges;
        for (int r = 0; r < b; r++) {
            if (Math.max(pad[r], (long) past - window + 1) > past) {
                continue;
            }
            for (int group = 0; group < kvHeads * blocks; group++) {
                int kh = group / blocks;
                int first = kh * groups + (group % blocks) * HEAD_BLOCK;
                int count = Math.min(HEAD_BLOCK, (kh + 1) * groups - first);
                int u0 = r * perRow + group * ranges;
                for (int hb = 0; hb < count; hb++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < ranges; k++) {
                        int at = (u0 + k) * 2 * HEAD_BLOCK;
                        if (partialStats[at + HEAD_BLOCK + hb] > 0f) {
                            max = Math.max(max, partialStats[at + hb]);
                        }
                    }
                    int out = r * qDim + (first + hb) * headDim;
                    Arrays.fill(attn, out, out + headDim, 0f);
                    float sum = 0f;
                    for (int k = 0; k < ranges; k++) {
                        int at = (u0 + k) * 2 * HEAD_BLOCK;
                        float s = partialStats[at + HEAD_BLOCK + hb];
                        if (s > 0f) {
                            float scale = (float) Math.exp(partialStats[at + hb] - max);
                            sum += scale * s;
                            VectorOps.axpy(scale, partialValues, ((u0 + k) * HEAD_BLOCK + hb) * headDim, attn, out,
                                    headDim);
                        }
                    }
                    VectorOps.scale(attn, out, headDim, 1f / sum);
                }
            }
        }
    }

    private void ensureScores(int total) {
        for (int p = 0; p < scores.length; p++) {
            int need = HEAD_BLOCK * (total + TILE);
            if (scores[p].length < need) {
                scores[p] = new float[Math.max(need, scores[p].length + scores[p].length / 4)];
            }
        }
    }

    /**
     * Every query of the chunk in row {@code r} for heads {@code [first, first + count)} of key head {@code kh}. In a
     * prefill four consecutive queries of a head go together ({@link #attendFour}); with fewer than four queries (a
     * decode step) four heads of one query do, which share their keys and values.
     */
    private void attendHeads(int l, JavaKvCache cache, int r, int kh, int first, int count, int pad, int t, int past,
                             float[] sc, float[] acc) {
        float[] keys = cache.keys(l, r, kh);
        float[] values = cache.values(l, r, kh);
        if (t < QUERY_BLOCK && count > 1 && blockedAttention) {
            attendQueries(keys, values, r, first, count, pad, t, past, 0, t, sc, acc);
            return;
        }
        for (int hd = first; hd < first + count; hd++) {
            for (int j = 0; j < t; j++) {
                int query = past + j;
                int lo = (int) Math.max(pad, (long) query - window + 1);
                int i = r * t + j;
                if (blockedAttention && j + QUERY_BLOCK <= t && lo <= query) {
                    // the next queries see at least what this one sees (their ranges start no earlier)
                    int q = i * qkvDim + hd * headDim;
                    int out = i * qDim + hd * headDim;
                    attendFour(keys, values, lo, query, 1, q, q + qkvDim, q + 2 * qkvDim, q + 3 * qkvDim,
                            out, out + qDim, out + 2 * qDim, out + 3 * qDim, pad, sc, acc);
                    j += QUERY_BLOCK - 1;
                } else {
                    attendOne(keys, values, i, hd, lo, query, past + t, sc, acc);
                }
            }
        }
    }

    /**
     * Queries {@code [j0, j1)} of the chunk in row {@code r}, each with heads {@code [first, first + count)} of a key
     * head together: up to eight at once ({@link #attendEight}), four ({@link #attendFour}), or one by one for a
     * query that sees no slot. Each key and value vector loaded serves every head of the query.
     */
    private void attendQueries(float[] keys, float[] values, int r, int first, int count, int pad, int t, int past,
                               int j0, int j1, float[] sc, float[] acc) {
        for (int j = j0; j < j1; j++) {
            int query = past + j;
            int lo = (int) Math.max(pad, (long) query - window + 1);
            int i = r * t + j;
            if (lo <= query && count > QUERY_BLOCK) {
                attendEight(keys, values, lo, query, i * qkvDim + first * headDim, i * qDim + first * headDim,
                        count, sc);
            } else if (lo <= query) {
                // fewer than four heads left: the last one is computed again in the spare places (same result)
                int q = i * qkvDim + first * headDim;
                int out = i * qDim + first * headDim;
                int h1 = Math.min(1, count - 1) * headDim;
                int h2 = Math.min(2, count - 1) * headDim;
                int h3 = Math.min(3, count - 1) * headDim;
                attendFour(keys, values, lo, query, 0, q, q + h1, q + h2, q + h3, out, out + h1,
                        out + h2, out + h3, pad, sc, acc);
            } else {
                for (int hd = first; hd < first + count; hd++) {
                    attendOne(keys, values, i, hd, lo, query, past + t, sc, acc);
                }
            }
        }
    }

    /** One query (chunk row {@code i}, head {@code hd}, at slot {@code query}, seeing {@code [lo, query]}). */
    private void attendOne(float[] keys, float[] values, int i, int hd, int lo, int query, int total,
                           float[] sc, float[] acc) {
        int q = i * qkvDim + hd * headDim;
        int out = i * qDim + hd * headDim;
        Arrays.fill(acc, 0f);
        if (lo > query) {
            // no slot is visible (a padding position): every slot weighs the same, as under the engine's finite mask
            for (int s = 0; s < total; s++) {
                VectorOps.add(values, s * headDim, acc, 0, headDim);
            }
            float inv = 1f / total;
            for (int d = 0; d < headDim; d++) {
                attn[out + d] = acc[d] * inv;
            }
            return;
        }
        // whole tiles from the one that holds lo; the scores of lo sit at sc[off]
        int base = lo - lo % TILE;
        int off = lo - base;
        int len = query - lo + 1;
        VectorSpecies<Float> species = VectorOps.S;
        for (int s = 0; s < off + len; s += TILE) {
            int tile = (base + s) * headDim;
            FloatVector a = FloatVector.zero(species);
            for (int d = 0; d < headDim; d++) {
                a = FloatVector.fromArray(species, keys, tile + d * TILE).fma(FloatVector.broadcast(species, qkv[q + d]), a);
            }
            a.intoArray(sc, s);
        }
        SoftCapping.apply(sc, off, len, attnSoftcap);
        float max = VectorOps.max(sc, off, len);
        float sum = VectorOps.expShifted(sc, off, len, max);
        for (int s = 0; s < len; s++) {
            VectorOps.axpy(sc[off + s], values, (lo + s) * headDim, acc, 0, headDim);
        }
        float inv = 1f / sum;
        for (int d = 0; d < headDim; d++) {
            attn[out + d] = acc[d] * inv;
        }
    }

    /**
     * Four queries that share their keys and values at once ({@value #QUERY_BLOCK}): query {@code b} reads its vector
     * at {@code qb} of {@link #qkv}, writes its output at {@code outb} of {@link #attn}, and sits at slot
     * {@code query + b * slotStep} (1: consecutive queries of a head; 0: heads of one query), seeing the slots from {@code lo} (for the first; later ones start no earlier) to its own. Each key and value vector
     * loaded serves all four, and the scores of a group of slots are summed in registers over the head dimension.
     * Their scores take {@code 4 x (slots seen)} floats of {@code sc}; {@code inv} (at least 4 floats) holds their
     * normalizers.
     */
    private void attendFour(float[] keys, float[] values, int lo, int query, int slotStep, int q0,
                            int q1, int q2, int q3, int out0, int out1, int out2, int out3, int pad, float[] sc,
                            float[] inv) {
        VectorSpecies<Float> species = VectorOps.S;
        int lanes = species.length();
        // whole tiles from the one that holds lo: slot base + x has its scores at sc[b * len + x]
        int base = lo - lo % TILE;
        int len = (query + (QUERY_BLOCK - 1) * slotStep + 1 - base + TILE - 1) / TILE * TILE;
        for (int s = 0; s < len; s += TILE) {
            FloatVector a0 = FloatVector.zero(species);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int tile = (base + s) * headDim;
            for (int d = 0; d < headDim; d++) {
                FloatVector kv = FloatVector.fromArray(species, keys, tile + d * TILE);
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
        for (int b = 0; b < QUERY_BLOCK; b++) {
            int slot = query + b * slotStep;
            int from = (int) Math.max(pad, (long) slot - window + 1) - base;
            int to = slot - base + 1;
            int row = b * len;
            SoftCapping.apply(sc, row + from, to - from, attnSoftcap);
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
            int last = query + (QUERY_BLOCK - 1) * slotStep - base;
            for (int x = lo - base; x <= last; x++) {
                FloatVector v = FloatVector.fromArray(species, values, (base + x) * headDim + dv);
                a0 = v.fma(FloatVector.broadcast(species, sc[x]), a0);
                a1 = v.fma(FloatVector.broadcast(species, sc[len + x]), a1);
                a2 = v.fma(FloatVector.broadcast(species, sc[2 * len + x]), a2);
                a3 = v.fma(FloatVector.broadcast(species, sc[3 * len + x]), a3);
            }
            a0.mul(inv[0]).intoArray(attn, out0 + dv);
            a1.mul(inv[1]).intoArray(attn, out1 + dv);
            a2.mul(inv[2]).intoArray(attn, out2 + dv);
            a3.mul(inv[3]).intoArray(attn, out3 + dv);
        }
    }

    /**
     * Up to eight heads ({@code count}, 5 to {@value #HEAD_BLOCK}) of one query that share their keys and values, all
     * seeing slots {@code [lo, query]}: head {@code b} reads its vector at {@code q + b * headDim} of {@link #qkv} and
     * writes at {@code out + b * headDim} of {@link #attn} (missing heads repeat the last one). Each key and value vector
     * loaded serves all eight. Scores take {@code 8 x (slots seen + TILE)} floats of {@code sc}.
     */
    private void attendEight(float[] keys, float[] values, int lo, int query, int q, int out, int count, float[] sc) {
        attendEight(keys, values, lo, query, q, count, sc, attn, out, null, 0);
    }

    /**
     * {@link #attendEight(float[], float[], int, int, int, int, int, float[])} into {@code dst} at {@code out}; with
     * {@code stats}, the outputs are left unnormalized (the sum of {@code exp(score - max) * value}) and head {@code b}
     * writes its maximum score at {@code stats[at + b]} and its sum of exponentials at
     * {@code stats[at + HEAD_BLOCK + b]} (a partial of split-slot attention, {@link #combine}).
     */
    private void attendEight(float[] keys, float[] values, int lo, int query, int q, int count, float[] sc,
                             float[] dst, int out, float[] stats, int at) {
        VectorSpecies<Float> species = VectorOps.S;
        int lanes = species.length();
        int base = lo - lo % TILE;
        int len = (query + 1 - base + TILE - 1) / TILE * TILE;
        int q0 = q;
        int q1 = q + Math.min(1, count - 1) * headDim;
        int q2 = q + Math.min(2, count - 1) * headDim;
        int q3 = q + Math.min(3, count - 1) * headDim;
        int q4 = q + Math.min(4, count - 1) * headDim;
        int q5 = q + Math.min(5, count - 1) * headDim;
        int q6 = q + Math.min(6, count - 1) * headDim;
        int q7 = q + Math.min(7, count - 1) * headDim;
        for (int s = 0; s < len; s += TILE) {
            FloatVector a0 = FloatVector.zero(species);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            int tile = (base + s) * headDim;
            for (int d = 0; d < headDim; d++) {
                FloatVector kv = FloatVector.fromArray(species, keys, tile + d * TILE);
                a0 = kv.fma(FloatVector.broadcast(species, qkv[q0 + d]), a0);
                a1 = kv.fma(FloatVector.broadcast(species, qkv[q1 + d]), a1);
                a2 = kv.fma(FloatVector.broadcast(species, qkv[q2 + d]), a2);
                a3 = kv.fma(FloatVector.broadcast(species, qkv[q3 + d]), a3);
                a4 = kv.fma(FloatVector.broadcast(species, qkv[q4 + d]), a4);
                a5 = kv.fma(FloatVector.broadcast(species, qkv[q5 + d]), a5);
                a6 = kv.fma(FloatVector.broadcast(species, qkv[q6 + d]), a6);
                a7 = kv.fma(FloatVector.broadcast(species, qkv[q7 + d]), a7);
            }
            a0.intoArray(sc, s);
            a1.intoArray(sc, len + s);
            a2.intoArray(sc, 2 * len + s);
            a3.intoArray(sc, 3 * len + s);
            a4.intoArray(sc, 4 * len + s);
            a5.intoArray(sc, 5 * len + s);
            a6.intoArray(sc, 6 * len + s);
            a7.intoArray(sc, 7 * len + s);
        }
        int from = lo - base;
        int to = query - base + 1;
        float[] inv = new float[HEAD_BLOCK];
        for (int b = 0; b < HEAD_BLOCK; b++) {
            int row = b * len;
            SoftCapping.apply(sc, row + from, to - from, attnSoftcap);
            float max = VectorOps.max(sc, row + from, to - from);
            float sum = VectorOps.expShifted(sc, row + from, to - from, max);
            if (stats == null) {
                inv[b] = 1f / sum;
            } else {
                inv[b] = 1f;
                stats[at + b] = max;
                stats[at + HEAD_BLOCK + b] = sum;
            }
        }
        for (int dv = 0; dv < headDim; dv += lanes) {
            FloatVector a0 = FloatVector.zero(species);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int x = from; x < to; x++) {
                FloatVector v = FloatVector.fromArray(species, values, (base + x) * headDim + dv);
                a0 = v.fma(FloatVector.broadcast(species, sc[x]), a0);
                a1 = v.fma(FloatVector.broadcast(species, sc[len + x]), a1);
                a2 = v.fma(FloatVector.broadcast(species, sc[2 * len + x]), a2);
                a3 = v.fma(FloatVector.broadcast(species, sc[3 * len + x]), a3);
                a4 = v.fma(FloatVector.broadcast(species, sc[4 * len + x]), a4);
                a5 = v.fma(FloatVector.broadcast(species, sc[5 * len + x]), a5);
                a6 = v.fma(FloatVector.broadcast(species, sc[6 * len + x]), a6);
                a7 = v.fma(FloatVector.broadcast(species, sc[7 * len + x]), a7);
            }
            a0.mul(inv[0]).intoArray(dst, out + dv);
            a1.mul(inv[1]).intoArray(dst, out + Math.min(1, count - 1) * headDim + dv);
            a2.mul(inv[2]).intoArray(dst, out + Math.min(2, count - 1) * headDim + dv);
            a3.mul(inv[3]).intoArray(dst, out + Math.min(3, count - 1) * headDim + dv);
            a4.mul(inv[4]).intoArray(dst, out + Math.min(4, count - 1) * headDim + dv);
            a5.mul(inv[5]).intoArray(dst, out + Math.min(5, count - 1) * headDim + dv);
            a6.mul(inv[6]).intoArray(dst, out + Math.min(6, count - 1) * headDim + dv);
            a7.mul(inv[7]).intoArray(dst, out + Math.min(7, count - 1) * headDim + dv);
        }
    }

    /**
     * Hugging Face's rotate_half rotation of one head at {@code a[off...]} over its first {@code 2 * rotHalf}
     * dimensions (all of them unless the rotary factor is partial; the rest pass through): column j of the first half
     * becomes {@code x_j cos - x_{j+rotHalf} sin}, column j + rotHalf becomes {@code x_{j+rotHalf} cos + x_j sin}.
     */
    private void rotate(float[] a, int off, int table, float[] cosines, float[] sines) {
        for (int f = 0; f < rotHalf; f++) {
            float c = cosines[table + f];
            float s = sines[table + f];
            float x1 = a[off + f];
            float x2 = a[off + f + rotHalf];
            a[off + f] = x1 * c - x2 * s;
            a[off + f + rotHalf] = x2 * c + x1 * s;
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

    /**
     * The MLP's activation on {@code n} rows of {@link #up} (GPT-2: in place; gated MLPs: into {@link #act}, times the
     * up half), in a prefill shared by every thread in pieces of {@value #ACTIVATION_PIECE} values (element by element,
     * so the same bits however it is cut): on the calling thread alone it was about a fifth of that thread's time.
     */
    private void activateRows(int n) {
        int pieces = (inter + ACTIVATION_PIECE - 1) / ACTIVATION_PIECE;
        int units = n * pieces;
        if (workers.threads() == 1 || (long) n * inter < ACTIVATION_SPLIT_MIN) {
            for (int u = 0; u < units; u++) {
                activatePiece(u, pieces);
            }
            return;
        }
        claims.reset(units);
        workers.runShared(() -> {
            int me = claims.join();
            for (int u = claims.claim(me); u >= 0; u = claims.claim(me)) {
                activatePiece(u, pieces);
            }
        });
    }

    private void activatePiece(int unit, int pieces) {
        int i = unit / pieces;
        if (paddingRows > 0 && !holdsToken(i)) {
            return; // a padding row: the down product leaves it out
        }
        int from = (unit % pieces) * ACTIVATION_PIECE;
        int len = Math.min(ACTIVATION_PIECE, inter - from);
        if (gpt2) {
            activate(up, i * upRows + from, len);
        } else {
            int at = i * inter + from;
            int code = activation == Activation.SILU ? NativeExp.SILU
                    : activation == Activation.GELU_TANH ? NativeExp.GELU_TANH : -1;
            if (code < 0 || !NativeExp.tryActivateTimes(code, up, i * upRows + from, i * upRows + inter + from,
                    act, at, len)) {
                System.arraycopy(up, i * upRows + from, act, at, len);
                activate(act, at, len);
                VectorOps.multiply(act, at, up, i * upRows + inter + from, len);
            }
        }
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
     * schedule in time is not waited for), each thread its own contiguous run of pieces first ({@link PieceClaims}).
     */
    /*
     * With native kernels on, every product they take runs on them, whatever its column count (a prefill chunk of any
     * length, a decode step of any number of streams): each column's result is bit for bit the one it gets alone
     * (WeightMatrix#nativeProduct), so a prompt's logits do not depend on how it is cut into chunks, on how much of it
     * the prompt cache held, or on which requests share a batched step. The Java kernels have the same property.
     */
    private void product(LinearWeight weight, float[] in, int n, float[] y) {
        int rows = weight.rows();
        WeightMatrix matrix = weight.matrix();
        boolean quantized = nativeKernels && matrix.nativeProduct(n);
        // a kernel call prepares its whole input (BF16/F16 reorder it, many columns pack it): few pieces for many
        // columns; the Q8_0/Q4_0 kernels read the activations quantized once below, so a decode step of a few streams
        // is cut as finely as one of one (on 2 cores beside a server's threads a late thread otherwise held half a step)
        int perThread = n <= 2 || (quantized && n < FINE_PIECES_MAX_COLUMNS && blocksOf32(matrix)) ? PIECES_PER_THREAD : 1;
        int pieces = (int) Math.max(1, Math.min((long) workers.threads() * perThread, rows / MIN_PIECE_ROWS));
        if (quantized) {
            // the activations quantized once per product, on this thread; every piece reads them
            matrix.quantize(in, n, quantizedInput);
        }
        if (pieces == 1 || workers.threads() == 1) {
            piece(matrix, quantized, in, n, y, 0, rows);
            return;
        }
        claims.reset(pieces);
        workers.runShared(() -> {
            int me = claims.join();
            for (int p = claims.claim(me); p >= 0; p = claims.claim(me)) {
                int from = p == 0 ? 0 : pieceStart(rows, p, pieces);
                int to = p == pieces - 1 ? rows : pieceStart(rows, p + 1, pieces);
                if (to > from) {
                    piece(matrix, quantized, in, n, y, from, to);
                }
            }
        });
    }

    /**
     * A layer's product over the chunk's {@code n} rows, each distinct input multiplied once: without its left-padding
     * rows (positions before a row's {@code pad}, {@link #paddingRows}), whose outputs are zero, and without the rows
     * whose input repeats, bit for bit, that of a row of an earlier stream at the same position ({@link #sources}),
     * whose outputs are copied from it. The rows multiplied are moved to the front of {@code in} (which the layer does
     * not read again), multiplied, and moved back to their places in {@code y}. Each column's product has the same bits
     * whatever the other columns, so nothing changes but the work: no query of a token sees a padding slot, two
     * streams of 66 and 38 tokens multiply 104 columns instead of 132, and where both begin with the same tokens (a
     * system prompt that the preference follows; the paper's prompts share 179 of 197 and 224 tokens) the shared
     * positions' inputs are equal in every layer and are multiplied once. Padding is left out only where the last
     * position's logits are asked for ({@link #run}): {@link #runAll} gives every position's.
     */
    private void layerProduct(LinearWeight weight, float[] in, int n, float[] y) {
        int cols = weight.matrix().cols();
        if (!sources(in, n, cols)) {
            product(weight, in, n, y);
            return;
        }
        int[] src = columnSource;
        int rows = weight.rows();
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (src[i] == UNIQUE) {
                if (k != i) {
                    // towards the front: row k's own values were moved (or were not needed) already
                    System.arraycopy(in, i * cols, in, k * cols, cols);
                }
                k++;
            }
        }
        if (k > 0) {
            product(weight, in, k, y);
        }
        for (int i = n - 1; i >= 0; i--) {
            if (src[i] == UNIQUE) {
                k--;
                if (k != i) {
                    // towards the back: the rows still to move lie below i
                    System.arraycopy(y, k * rows, y, i * rows, rows);
                }
            } else if (src[i] == PADDING) {
                Arrays.fill(y, i * rows, (i + 1) * rows, 0f);
            }
        }
        for (int i = 0; i < n; i++) {
            if (src[i] >= 0) {
                System.arraycopy(y, src[i] * rows, y, i * rows, rows);
            }
        }
    }

    /**
     * Fills {@link #columnSource} for a product over {@code n} rows of {@code in} ({@code cols} values each) and
     * returns whether any row is padding or repeats another: a row of a prefill chunk of several streams whose input
     * equals, bit for bit ({@link Arrays#equals(float[], int, int, float[], int, int)}), that of the row of an
     * earlier stream at the same position (a stream's position {@code p} is chunk row {@code p + pad - past}).
     * Equality is checked, not inferred from the tokens, so a repeat is only ever a row whose product is the same.
     */
    private boolean sources(float[] in, int n, int cols) {
        int t = chunkT;
        int b = chunkPad == null || t < 2 ? 1 : n / t;
        boolean share = sharedColumns && b > 1 && (long) b * t == n;
        if (paddingRows == 0 && !share) {
            return false;
        }
        if (columnSource.length < n) {
            columnSource = new int[n];
        }
        int[] src = columnSource;
        boolean any = false;
        for (int i = 0; i < n; i++) {
            boolean token = chunkPad == null || holdsToken(i);
            src[i] = token || paddingRows == 0 ? UNIQUE : PADDING;
            if (!token) {
                any |= paddingRows > 0;
                continue;
            }
            int r = i / t;
            int j = i % t;
            for (int r2 = 0; share && r2 < r; r2++) {
                long j2 = (long) j - chunkPad[r] + chunkPad[r2];
                if (j2 < 0 || j2 >= t) {
                    continue;
                }
                int i2 = (int) (r2 * t + j2);
                int root = src[i2] >= 0 ? src[i2] : i2;
                if (src[root] == UNIQUE && holdsToken(root)
                        && Arrays.equals(in, i * cols, (i + 1) * cols, in, root * cols, (root + 1) * cols)) {
                    src[i] = root;
                    sharedColumnCount++;
                    any = true;
                    break;
                }
            }
        }
        return any;
    }

    /** For tests: whether {@link #layerProduct} multiplies a repeated input once (the default). */
    void sharedColumns(boolean on) {
        this.sharedColumns = on;
    }

    /** For tests: rows whose product {@link #layerProduct} copied from another row with the same input. */
    long sharedColumnCount() {
        return sharedColumnCount;
    }

    /** Whether chunk row {@code i} holds a token (is not left padding) in the chunk in flight. */
    private boolean holdsToken(int i) {
        return chunkPast + i % chunkT >= chunkPad[i / chunkT];
    }

    /** Whether {@code matrix} is in Q8_0 or Q4_0 (the native kernels need no preparation per call for those). */
    private static boolean blocksOf32(WeightMatrix matrix) {
        return matrix.format() == WeightFormat.Q8_0 || matrix.format() == WeightFormat.Q4_0;
    }

    /** Rows {@code [from, to)} of a product: native on {@link #quantizedInput}, or Java on {@code in}. */
    private void piece(WeightMatrix matrix, boolean quantized, float[] in, int n, float[] y, int from, int to) {
        if (quantized) {
            matrix.multiply(quantizedInput, y, from, to);
        } else {
            matrix.multiply(in, n, y, from, to);
        }
    }

    /** Which kernels multiply the weights and why, one line for the load log ({@link Kernels#describe}). */
    public String kernels() {
        return kernelsLine;
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
     * A callback run where the pass's temporaries peak (scores live, a layer or chunk just done, products in flight);
     * a test seam for memory tests, with {@link #heapBytesHeld()}.
     */
    void probe(Runnable probe) {
        this.probe = probe;
    }

    /** Bytes of Java arrays the pass holds now (its scratch arrays, and the cache it is running on). */
    long heapBytesHeld() {
        long floats = (long) x.length + h.length + qkv.length + attn.length + proj.length + up.length + act.length
                + cos.length + sin.length + cosLocal.length + sinLocal.length + groupLogits.length + partialValues.length + partialStats.length;
        for (int p = 0; p < scores.length; p++) {
            floats += scores[p].length + accumulators[p].length + (queryBlocks == null ? 0 : queryBlocks[p].floats());
        }
        KvCache c = running;
        return 4L * floats + (c == null ? 0 : c.bytes());
    }

    @Override
    public int logitsWidth() {
        return vocab;
    }

    /** None: the logits are computed straight into the caller's arrays. */
    @Override
    public long copyNanos() {
        return 0;
    }

    @Override
    public WeightFootprint footprint() {
        return new WeightFootprint(0, w.heapBytes(), w.offHeapBytes(), w.linearBytes(), w.formats(), Float.BYTES);
    }

    /** Stops the product threads; the weights go with the pass. */
    @Override
    public void close() {
        workers.close();
    }
}
