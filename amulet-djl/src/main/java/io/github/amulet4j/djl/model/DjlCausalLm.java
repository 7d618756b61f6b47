package io.github.amulet4j.djl.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.djl.checkpoint.ModelConfig;
import io.github.amulet4j.djl.checkpoint.TensorStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;

/**
 * A Hugging Face causal LM (Llama, Mistral, Qwen2, Qwen3, GPT-2) run with DJL's PyTorch engine, as an
 * Amulet {@link CausalLm}. Weights are read from a {@link TensorStore}, checked against the shapes the
 * {@link ModelConfig} implies, converted to the compute dtype and kept on the device for the model's life.
 *
 * <p>{@link #prefill(List)} runs one batched, left-padded forward pass and returns a session with one KV
 * cache row per prompt; each {@link DecodingSession#append(int[])} then costs one forward pass for all
 * streams. With {@link RuntimeOptions#useKvCache()} off, every step recomputes the whole prefix instead.
 *
 * <p>Not thread-safe: one thread drives the model and its sessions at a time.
 */
public final class DjlCausalLm implements CausalLm {

    private static final Logger LOG = LoggerFactory.getLogger(DjlCausalLm.class);

    /** DJL's engine name for PyTorch. */
    public static final String ENGINE = "PyTorch";

    private final ModelConfig config;
    private final RuntimeOptions options;
    private final NDManager manager;
    private final ModelWeights weights;
    private final ForwardPass forward;
    private final RowSplitPool workers;
    private volatile boolean closed;

    private DjlCausalLm(ModelConfig config, RuntimeOptions options, NDManager manager, ModelWeights weights) {
        this.config = config;
        this.options = options;
        this.manager = manager;
        this.weights = weights;
        this.workers = new RowSplitPool(options.effectiveProductThreads(), "amulet-product");
        try {
            float[] invFreq = RotaryFrequencies.inverseFrequencies(config);
            // weights held for the Java kernels (CPU, float32): the whole pass in Java; otherwise on the engine
            this.forward = weights.heapBytes() > 0 ? new JavaForward(config, weights, invFreq, workers)
                    : new TransformerForward(config, weights, options.computeType(), invFreq, workers);
        } catch (RuntimeException | Error e) {
            workers.close(); // a failed load leaves no thread behind
            throw e;
        }
    }

    /**
     * Loads a model with default options (float32 on the CPU, KV cache on).
     *
     * @see #load(ModelConfig, TensorStore, RuntimeOptions)
     */
    public static DjlCausalLm load(ModelConfig config, TensorStore store) {
        return load(config, store, RuntimeOptions.defaults());
    }

    /**
     * Loads the weights of {@code config} from {@code store} onto the device of {@code options}. The store is
     * only read (the caller closes it; its arrays may be dropped once this returns).
     *
     * @throws IllegalArgumentException for an unsupported architecture or rope scaling, a missing tensor or a
     *                                  tensor of the wrong shape (naming {@link RuntimeOptions#checkpointName()})
     * @throws IllegalStateException    if a GPU is requested and the PyTorch engine sees none
     */
    public static DjlCausalLm load(ModelConfig config, TensorStore store, RuntimeOptions options) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        TensorLayout.validate(config);
        RuntimeOptions.requireSupportedComputeType(options.computeType());
        RotaryFrequencies.inverseFrequencies(config);
        Device device = options.device();
        Engine engine = Engine.getEngine(ENGINE);
        if (device.isGpu() && device.getDeviceId() >= engine.getGpuCount()) {
            throw new IllegalStateException("device " + device + " requested but the PyTorch engine sees "
                    + engine.getGpuCount() + " GPU(s); add the CUDA natives (ai.djl.pytorch:pytorch-native-cu*)"
                    + " and a CUDA driver, or use Device.cpu()");
        }
        warnAboutSpinningThreads(device);
        NDManager manager = NDManager.newBaseManager(device, ENGINE);
        try {
            ModelWeights weights;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                weights = new ModelWeights(config, store, manager, options.computeType(), options.checkpointName(),
                        options.effectiveProductThreads(), useHeapKernel(config, store, options), options.weights());
                for (NDArray a : manager.getManagedArrays()) {
                    NDScope.unregister(a);
                }
            }
            if (weights.heapBytes() >= RELEASE_AFTER_LOAD_BYTES) {
                // Loading passed every weight through the heap as float32, a MiB at a time, before converting it into
                // its format: gigabytes of short-lived garbage for a large model, which may have grown the heap.
                // One collection now lets the heap shrink back.
                System.gc();
            }
            LOG.info("loaded {} ({}, {} layers, hidden {}) on {} as {}, linear layers on {}, {} thread(s) per product",
                    options.checkpointName(), config.architecture(), config.numLayers(), config.hiddenSize(), device,
                    options.computeType(), weights.heapBytes() > 0 ? "the Java kernels (Vector API), weights "
                            + options.weights() + ", " + (weights.heapBytes() >> 20) + " MiB on the Java heap" : "PyTorch",
                    options.effectiveProductThreads());
            return new DjlCausalLm(config, options, manager, weights);
        } catch (RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    /**
     * PyTorch's OpenMP threads spin while they wait for work unless {@code OMP_WAIT_POLICY=PASSIVE} is set
     * before the process starts. On a CPU shared with other processes a spinning thread takes the core from the
     * one doing the work, and a decode step was measured 5x slower (issue 5). Says so once, at info level.
     */
    private static void warnAboutSpinningThreads(Device device) {
        if (device.isGpu() || spinWarningGiven || System.getenv("OMP_WAIT_POLICY") != null) {
            return;
        }
        String threads = System.getProperty("ai.djl.pytorch.num_threads");
        if ("1".equals(threads) || (threads == null && Runtime.getRuntime().availableProcessors() < 2)) {
            return;
        }
        spinWarningGiven = true;
        LOG.info("OMP_WAIT_POLICY is not set: PyTorch's threads spin while idle, which slows decoding down when other"
                + " processes share the CPU; export OMP_WAIT_POLICY=PASSIVE before starting Java (the amulet launcher does)");
    }

    private static volatile boolean spinWarningGiven;

    /** Java-held weights from this size on trigger one collection after loading (see {@link #load}). */
    private static final long RELEASE_AFTER_LOAD_BYTES = 256L << 20;

    /**
     * Whether the linear weights are held for the Java kernels (on the Java heap, in the format of
     * {@link RuntimeOptions#weights()}): {@link RuntimeOptions#effectiveLinearKernel()} says JAVA and, when both were
     * AUTO, they fit in the heap the JVM allows.
     */
    private static boolean useHeapKernel(ModelConfig config, TensorStore store, RuntimeOptions options) {
        if (options.effectiveLinearKernel() != RuntimeOptions.LinearKernel.JAVA) {
            if (options.linearKernel() == RuntimeOptions.LinearKernel.AUTO && !options.device().isGpu()
                    && options.computeType() == DataType.FLOAT32 && !VectorSupport.available()) {
                LOG.info("linear layers on PyTorch: the Java kernels (two Amulet streams then cost about what one"
                        + " does) cannot run: {}", VectorSupport.unavailableReason());
            }
            return false;
        }
        long need = javaWeightBytes(config, store, options.weights());
        long free = JavaHeap.free(need);
        if (need > free) {
            String msg = "the weights need " + (need >> 20) + " MiB of Java heap, the JVM allows " + (free >> 20)
                    + " MiB more (raise -Xmx; the launcher's default is -XX:MaxRAMPercentage=85)";
            if (options.linearKernel() == RuntimeOptions.LinearKernel.JAVA || options.weights().javaOnly()) {
                throw new IllegalStateException("linearKernel JAVA, weights " + options.weights() + ": " + msg);
            }
            LOG.info("linear layers on PyTorch: {}", msg);
            return false;
        }
        return true;
    }

    /** Bytes the Java kernels' weights take in {@code weights} (the checkpoint's precision for AUTO). */
    static long javaWeightBytes(ModelConfig config, TensorStore store, RuntimeOptions.Weights weights) {
        io.github.amulet4j.djl.weights.WeightFormat f = weights.format();
        if (f == null) {
            String any = store.names().stream().filter(n -> store.shape(n).length == 2).findFirst()
                    .orElse(store.names().iterator().next());
            f = ModelWeights.storedFormat(store.dtype(any));
        }
        double perWeight = (double) f.blockBytes() / f.blockWeights();
        long elements = linearElements(config);
        if (!config.tieWordEmbeddings()) {
            elements += (long) config.vocabSize() * config.hiddenSize();
        }
        return (long) Math.ceil(perWeight * elements);
    }

    /** Elements of every linear weight and the output head (the heap kernel's weights). */
    static long linearElements(ModelConfig config) {
        long total = 0;
        for (java.util.Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            long[] shape = e.getValue();
            String n = e.getKey();
            boolean matrix = shape.length == 2 && !n.endsWith("wpe.weight")
                    && (config.tieWordEmbeddings() || !(n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight")));
            if (matrix) {
                total += shape[0] * shape[1];
            }
        }
        return total;
    }

    /** The configuration this model was built from. */
    public ModelConfig config() {
        return config;
    }

    /** The options this model runs with. */
    public RuntimeOptions options() {
        return options;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxPositions() {
        return config.maxPositions();
    }

    @Override
    public DecodingSession prefill(List<int[]> prompts) {
        ensureOpen();
        Objects.requireNonNull(prompts, "prompts");
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must not be empty");
        }
        for (int i = 0; i < prompts.size(); i++) {
            checkPrompt(prompts.get(i), "prompt " + i);
        }
        return new DjlDecodingSession(this, manager.newSubManager(), prompts);
    }

    /**
     * Logits of every position of one prompt, {@code [prompt.length][vocab]}, from one forward pass (in chunks of
     * {@link RuntimeOptions#prefillChunk()} tokens) without a session (for scoring and tests).
     */
    public float[][] logitsAllPositions(int[] prompt) {
        ensureOpen();
        checkPrompt(prompt, "prompt");
        float[][] out = new float[prompt.length][config.vocabSize()];
        try (NDManager step = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            KvCache cache = newCache(step, 1, prompt.length);
            forward.runAll(step, new int[][] {prompt}, new int[] {0}, cache, options.prefillChunk(), out);
        }
        return out;
    }

    ForwardPass forward() {
        return forward;
    }

    KvCache newCache(NDManager owner, int batch, int capacity) {
        return forward.newCache(owner, batch, capacity);
    }

    private void checkPrompt(int[] prompt, String what) {
        Objects.requireNonNull(prompt, what);
        if (prompt.length == 0) {
            throw new IllegalArgumentException(what + " is empty");
        }
        if (prompt.length > config.maxPositions()) {
            throw new IllegalArgumentException(what + " has " + prompt.length + " tokens, more than the "
                    + config.maxPositions() + " positions of " + options.checkpointName());
        }
        for (int id : prompt) {
            checkToken(id, what);
        }
    }

    void checkToken(int id, String what) {
        if (id < 0 || id >= config.vocabSize()) {
            throw new IllegalArgumentException(what + " holds token id " + id + ", outside [0, " + config.vocabSize()
                    + ") of " + options.checkpointName());
        }
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("model " + options.checkpointName() + " is closed");
        }
    }

    /** The manager that owns the weights (sessions are sub-managers of it); for memory diagnostics. */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            workers.close();
            manager.close();
        }
    }

    /**
     * Total wall time spent copying logits from the engine into the Java arrays that {@link DecodingSession#logits()}
     * returns, over every forward pass of this model so far (a diagnostic for benchmarks).
     */
    public long logitsCopyNanos() {
        return forward.copyNanos();
    }

    /** Bytes the model's weights take, on the device and on the Java heap together (for memory reports). */
    public long weightBytes() {
        return weights.engineBytes() + weights.heapBytes();
    }

    /**
     * Bytes of weights one decode step reads: every linear weight and the output head as held (in their
     * {@link RuntimeOptions#weights()} format on the Java side), plus the norms, biases and positions (embedding
     * tables that are only looked up are not counted).
     */
    public long weightBytesPerToken() {
        long other = 0;
        for (java.util.Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            String n = e.getKey();
            long[] shape = e.getValue();
            boolean embedding = n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight") || n.endsWith("lm_head.weight");
            boolean matrix = shape.length == 2 && !n.endsWith("wpe.weight") && !embedding;
            if (matrix || embedding || n.endsWith("wpe.weight")) {
                continue;
            }
            long numel = 1;
            for (long d : shape) {
                numel *= d;
            }
            other += numel;
        }
        return weights.linearBytes() + other * options.computeType().getNumOfBytes();
    }

    /** The formats the Java kernels hold the linear weights in ({@code F32}, {@code Q4_0+F16}, ...); empty on PyTorch. */
    public String weightFormats() {
        return weights.formats();
    }

    /** Whether the linear layers run as Java Vector API kernels (weights held off the heap, {@link RuntimeOptions#weights()}). */
    public boolean linearLayersOnHeap() {
        return weights.heapBytes() > 0;
    }

    /** The dtype of weights and activations. */
    public DataType computeType() {
        return options.computeType();
    }
}
