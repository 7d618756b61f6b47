package io.github.amulet4j.djl.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.DecoderLm;
import io.github.amulet4j.transformer.DecoderSettings;
import io.github.amulet4j.transformer.ForwardPass;
import io.github.amulet4j.transformer.JavaForward;
import io.github.amulet4j.transformer.JavaHeap;
import io.github.amulet4j.transformer.JavaWeights;
import io.github.amulet4j.transformer.RowSplitPool;
import io.github.amulet4j.transformer.VectorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * A Hugging Face causal LM (Llama, Mistral, Qwen2, Qwen3, GPT-2) loaded for the options of a {@link RuntimeOptions}:
 * a {@link DecoderLm} whose forward pass is the pure-Java {@link JavaForward} (the CPU default: PyTorch is never
 * started) or, for a GPU, float16 or {@link RuntimeOptions.LinearKernel#ENGINE}, the PyTorch pass through DJL
 * ({@link TransformerForward}, weights on the device for the model's life).
 *
 * <p>Not thread-safe: one thread drives the model and its sessions at a time.
 */
public final class DjlCausalLm extends DecoderLm {

    private static final Logger LOG = LoggerFactory.getLogger(DjlCausalLm.class);

    /** DJL's engine name for PyTorch. */
    public static final String ENGINE = "PyTorch";

    private final RuntimeOptions options;
    /** The engine manager that owns the weights; null on the Java pass. */
    private final NDManager manager;

    private DjlCausalLm(ModelConfig config, RuntimeOptions options, NDManager manager, ForwardPass forward) {
        super(config, new DecoderSettings(options.checkpointName(), options.useKvCache(),
                options.initialCacheCapacity(), options.prefillChunk()), forward);
        this.options = options;
        this.manager = manager;
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
     * Loads the weights of {@code config} from {@code store} for the device and kernel of {@code options}. The store
     * is only read (the caller closes it; its arrays may be dropped once this returns). PyTorch is started only when
     * the linear layers do not run on the Java kernels.
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
        if (useHeapKernel(config, store, options)) {
            return loadJava(config, store, options);
        }
        return loadEngine(config, store, options);
    }

    /** The whole pass in Java: no engine, no native library beyond the JDK. */
    private static DjlCausalLm loadJava(ModelConfig config, TensorStore store, RuntimeOptions options) {
        JavaForward forward = JavaForward.load(config, store, options.checkpointName(), options.weights().format(),
                options.effectiveProductThreads());
        try {
            long heap = forward.footprint().heapBytes();
            if (heap >= RELEASE_AFTER_LOAD_BYTES) {
                // Loading passed every weight through the heap as float32, a MiB at a time, before converting it into
                // its format: gigabytes of short-lived garbage for a large model, which may have grown the heap.
                // One collection now lets the heap shrink back.
                System.gc();
            }
            LOG.info("loaded {} ({}, {} layers, hidden {}) on cpu as float32, linear layers on the Java kernels (Vector"
                            + " API), weights {}, {} MiB on the Java heap, {} thread(s) per product",
                    options.checkpointName(), config.architecture(), config.numLayers(), config.hiddenSize(),
                    options.weights(), heap >> 20, options.effectiveProductThreads());
            return new DjlCausalLm(config, options, null, forward);
        } catch (RuntimeException | Error e) {
            forward.close();
            throw e;
        }
    }

    /** Weights and every operation on DJL's PyTorch engine (GPUs, float16, the engine kernel). */
    private static DjlCausalLm loadEngine(ModelConfig config, TensorStore store, RuntimeOptions options) {
        Device device = options.device();
        Engine engine = Engine.getEngine(ENGINE);
        if (device.isGpu() && device.getDeviceId() >= engine.getGpuCount()) {
            throw new IllegalStateException("device " + device + " requested but the PyTorch engine sees "
                    + engine.getGpuCount() + " GPU(s); add the CUDA natives (ai.djl.pytorch:pytorch-native-cu*)"
                    + " and a CUDA driver, or use Device.cpu()");
        }
        warnAboutSpinningThreads(device);
        NDManager manager = NDManager.newBaseManager(device, ENGINE);
        RowSplitPool workers = null;
        try {
            EngineWeights weights;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                weights = new EngineWeights(config, store, manager, options.computeType(), options.checkpointName(),
                        options.effectiveProductThreads());
                for (NDArray a : manager.getManagedArrays()) {
                    NDScope.unregister(a);
                }
            }
            LOG.info("loaded {} ({}, {} layers, hidden {}) on {} as {}, linear layers on PyTorch, {} thread(s) per product",
                    options.checkpointName(), config.architecture(), config.numLayers(), config.hiddenSize(), device,
                    options.computeType(), options.effectiveProductThreads());
            workers = new RowSplitPool(options.effectiveProductThreads(), "amulet-product");
            TransformerForward forward = new TransformerForward(config, weights, manager, options.computeType(),
                    RotaryFrequencies.inverseFrequencies(config), workers);
            return new DjlCausalLm(config, options, manager, forward);
        } catch (RuntimeException | Error e) {
            if (workers != null) {
                workers.close(); // a failed load leaves no thread behind
            }
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
        long need = JavaWeights.bytesNeeded(config, store, options.weights().format());
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
        return JavaWeights.bytesNeeded(config, store, weights.format());
    }

    /** Elements of every linear weight and the output head (the heap kernel's weights). */
    static long linearElements(ModelConfig config) {
        return JavaWeights.linearElements(config);
    }

    /** The options this model runs with. */
    public RuntimeOptions options() {
        return options;
    }

    /**
     * The engine manager that owns the weights (caches and each step's temporaries are sub-managers of it), for memory
     * diagnostics; null when the model runs on the Java pass, which starts no engine.
     */
    public NDManager manager() {
        return manager;
    }

    /** The dtype of weights and activations. */
    public DataType computeType() {
        return options.computeType();
    }
}
