package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.DecoderLm;
import io.github.amulet4j.transformer.DecoderSettings;
import io.github.amulet4j.transformer.ForwardPass;
import io.github.amulet4j.transformer.JavaWeights;

import java.util.Objects;

/**
 * A Hugging Face causal LM (Llama, Mistral, Qwen2, Qwen3, GPT-2) loaded for the options of a {@link RuntimeOptions}:
 * a {@link DecoderLm} whose forward pass comes from the first {@link Backend} that accepts them: the pure-Java pass
 * ({@link JavaBackend}, the CPU default: PyTorch is never started) or, for a GPU, float16 or
 * {@link RuntimeOptions.LinearKernel#ENGINE}, DJL's PyTorch engine ({@link PyTorchBackend}, weights on the device for
 * the model's life).
 *
 * <p>Not thread-safe: one thread drives the model and its sessions at a time.
 */
public final class DjlCausalLm extends DecoderLm {

    /** DJL's engine name for PyTorch. */
    public static final String ENGINE = "PyTorch";

    private final RuntimeOptions options;
    /** The engine manager that owns the weights; null on the Java pass. */
    private final NDManager manager;

    private DjlCausalLm(ModelConfig config, RuntimeOptions options, NDManager manager, ForwardPass forward) {
        super(config, new DecoderSettings(options.checkpointName(), options.useKvCache(),
                options.initialCacheCapacity(), options.prefillChunk(), promptCacheBytes(options), options.kvCache()),
                forward);
        this.options = options;
        this.manager = manager;
    }

    /**
     * The prompt cache's budget: {@link RuntimeOptions#promptCacheMib()}, at most a quarter of the JVM's heap (the
     * cache lives on the heap next to the weights; a larger budget is lowered, with a log line).
     */
    static long promptCacheBytes(RuntimeOptions options) {
        long asked = (long) options.promptCacheMib() << 20;
        long quarter = Runtime.getRuntime().maxMemory() / 4;
        if (asked > quarter) {
            org.slf4j.LoggerFactory.getLogger(DjlCausalLm.class).info("prompt cache of {}: {} MiB asked, {} MiB used "
                    + "(a quarter of the {} MiB heap; raise -Xmx for more)", options.checkpointName(),
                    options.promptCacheMib(), quarter >> 20, Runtime.getRuntime().maxMemory() >> 20);
            return quarter;
        }
        return asked;
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
        for (Backend backend : Backend.ALL) {
            if (backend.accepts(config, store, options)) {
                Backend.Loaded loaded = backend.load(config, store, options);
                return new DjlCausalLm(config, options, loaded.manager(), loaded.forward());
            }
        }
        throw new IllegalStateException("no backend runs " + options.checkpointName() + " with " + options);
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
