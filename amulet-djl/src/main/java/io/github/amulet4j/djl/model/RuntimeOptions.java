package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.VectorSupport;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.transformer.KvCachePrecision;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightCache;
import io.github.amulet4j.transformer.weights.WeightFormat;

import java.util.Locale;
import java.util.Objects;

/**
 * How a {@link DjlCausalLm} runs: device, compute dtype, KV cache on or off, the name used in error
 * messages, the initial cache capacity, the threads per linear product, the linear kernel and the prefill chunk.
 * Immutable; build with {@link #builder()}. This is the one place where each engine option is declared, validated and parsed from
 * text: {@link io.github.amulet4j.djl.ModelOptions} holds one, and the command line maps its flags onto
 * {@link Builder}.
 *
 * <p>Device and dtype are DJL's own types ({@link Device#cpu()}, {@link Device#gpu()}, {@link Device#gpu(int)};
 * {@link DataType#FLOAT32}, {@link DataType#FLOAT16}), as in DJL's {@code Criteria}; {@link #parseDevice(String)}
 * and {@link #parseComputeType(String)} read them from the names users type.
 *
 * <p>Only {@link DataType#FLOAT32} (default) and {@link DataType#FLOAT16} are accepted as compute
 * types. {@link DataType#BFLOAT16} is rejected on purpose: DJL 0.36's PyTorch JNI aborts the JVM when
 * a BFLOAT16 array is created or converted, so no code path may hand it to the engine.
 */
public final class RuntimeOptions {

    private final Device device;
    private final DataType computeType;
    private final boolean useKvCache;
    private final String checkpointName;
    private final int initialCacheCapacity;
    private final int productThreads;
    private final LinearKernel linearKernel;
    private final Weights weights;
    private final int prefillChunk;
    private final Kernels kernels;
    private final KvCachePrecision kvCache;
    /** Where the native kernels' weights are cached; null: not cached. */
    private final WeightCache weightCache;
    private final int promptCacheMib;

    /** Which code multiplies the linear layers on the CPU. */
    public enum LinearKernel {
        /** {@link #JAVA} when it can run (CPU, float32, the Vector API present), else {@link #ENGINE}. */
        AUTO,
        /** PyTorch, weights on the engine. */
        ENGINE,
        /**
         * Java Vector API kernels, weights on the Java heap in the format of {@link RuntimeOptions#weights()} (CPU, float32
         * activations; needs the JVM option {@value VectorSupport#JVM_OPTION}). Two streams cost about what one does.
         */
        JAVA;

        /**
         * {@code auto}, {@code engine} or {@code java}, in any case.
         *
         * @throws IllegalArgumentException naming the valid values
         */
        public static LinearKernel parse(String name) {
            for (LinearKernel k : values()) {
                if (k.name().equalsIgnoreCase(name == null ? "" : name.trim())) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown linear kernel '" + name + "'; valid: auto, engine, java");
        }
    }

    /**
     * How the linear weights (and the embedding table) are held for the Java kernels on the CPU: {@link #AUTO} keeps
     * the checkpoint's own precision (a BF16 checkpoint stays BF16; F32 and F16 likewise), the others convert on
     * load, quantizing in Java with llama.cpp's rounding ({@link io.github.amulet4j.transformer.weights.BlockQuantizer} gives
     * the error bounds). Everything but AUTO and F32 needs {@link LinearKernel#JAVA} (PyTorch gets float32 or float16).
     */
    public enum Weights {
        /** The checkpoint's precision (F32, BF16 or F16; other stored types as F32). */
        AUTO(null),
        /** float32, 4 bytes a weight. */
        F32(WeightFormat.F32),
        /** bfloat16, 2 bytes a weight. */
        BF16(WeightFormat.BF16),
        /** IEEE half, 2 bytes a weight. */
        F16(WeightFormat.F16),
        /** llama.cpp's Q8_0: 8-bit blocks of 32 with a half scale, 1.0625 bytes a weight. */
        Q8_0(WeightFormat.Q8_0),
        /** llama.cpp's Q4_0: 4-bit blocks of 32 with a half scale, 0.5625 bytes a weight. */
        Q4_0(WeightFormat.Q4_0);

        private final WeightFormat format;

        Weights(WeightFormat format) {
            this.format = format;
        }

        /** The storage format, or null for {@link #AUTO}. */
        public WeightFormat format() {
            return format;
        }

        /**
         * {@code auto}, {@code f32}, {@code bf16}, {@code f16}, {@code q8_0} or {@code q4_0}, in any case.
         *
         * @throws IllegalArgumentException naming the valid values
         */
        public static Weights parse(String name) {
            for (Weights w : values()) {
                if (w.name().equalsIgnoreCase(name == null ? "" : name.trim())) {
                    return w;
                }
            }
            throw new IllegalArgumentException("unknown weights '" + name + "'; valid: auto, f32, bf16, f16, q8_0, q4_0");
        }

        /** Whether only the Java kernels can hold these weights (not AUTO, not F32). */
        public boolean javaOnly() {
            return this != AUTO && this != F32;
        }
    }

    private RuntimeOptions(Builder b) {
        this.device = b.device;
        this.computeType = b.computeType;
        this.useKvCache = b.useKvCache;
        this.checkpointName = b.checkpointName;
        this.initialCacheCapacity = b.initialCacheCapacity;
        this.productThreads = b.productThreads;
        this.linearKernel = b.linearKernel;
        this.weights = b.weights;
        this.prefillChunk = b.prefillChunk;
        this.kernels = b.kernels;
        this.kvCache = b.kvCache;
        this.promptCacheMib = b.promptCacheMib;
        this.weightCache = b.weightCache;
    }

    /** Float32 on the CPU with a KV cache. */
    public static RuntimeOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with this object's values. */
    public Builder toBuilder() {
        return new Builder().device(device).computeType(computeType).useKvCache(useKvCache)
                .checkpointName(checkpointName).initialCacheCapacity(initialCacheCapacity)
                .productThreads(productThreads).linearKernel(linearKernel).weights(weights).prefillChunk(prefillChunk)
                .kernels(kernels).kvCache(kvCache).promptCacheMib(promptCacheMib).weightCache(weightCache);
    }

    /** Device the weights and caches live on ({@link Device#cpu()} by default). */
    public Device device() {
        return device;
    }

    /** Dtype of weights and activations: FLOAT32 (default) or FLOAT16. */
    public DataType computeType() {
        return computeType;
    }

    /** Whether sessions keep a KV cache (default) or recompute the whole prefix at every step. */
    public boolean useKvCache() {
        return useKvCache;
    }

    /** Name of the checkpoint used in error messages (a folder, a Hub id, "random"). */
    public String checkpointName() {
        return checkpointName;
    }

    /** Positions preallocated per cache before it first grows (by a quarter, at least 64 slots, as needed). */
    public int initialCacheCapacity() {
        return initialCacheCapacity;
    }

    /**
     * Threads that share each linear product of a decode step on the CPU, by row blocks of the weight; 0 (the
     * default) means automatic: the available processors, at most {@value #MAX_AUTO_PRODUCT_THREADS}, on the
     * CPU, and 1 on a GPU. PyTorch runs a matrix-vector product on one thread, which reads memory at about half
     * the bandwidth of two (issue 5); see {@link #effectiveProductThreads()}.
     */
    public int productThreads() {
        return productThreads;
    }

    /**
     * Most tokens per stream that one forward pass feeds through the layers (default
     * {@value #DEFAULT_PREFILL_CHUNK}): a longer prompt is prefilled in chunks through the KV cache, so the attention
     * scores of a pass take at most {@code streams x heads x prefillChunk x prompt length} floats and prefill memory
     * grows linearly with the prompt. The logits do not depend on it.
     */
    public int prefillChunk() {
        return prefillChunk;
    }

    /**
     * Which kernels the Java path multiplies the weights with ({@link Kernels#AUTO} by default): {@link Kernels#AUTO}
     * picks the native kernels (C, byte dot-product instructions; Q8_0, Q4_0 and GGUF Q4_K, Q5_K, Q6_K weights, one or
     * two streams) where the library is in the jar, loads and has a SIMD variant for this CPU, else the Java Vector API kernels;
     * {@link Kernels#JAVA} always the Java ones; {@link Kernels#NATIVE} fails to load without the library. Only used
     * when {@link #effectiveLinearKernel()} is JAVA.
     */
    public Kernels kernels() {
        return kernels;
    }

    /**
     * The precision of the KV cache's keys and values ({@link KvCachePrecision#F32} by default): with
     * {@link KvCachePrecision#F16} each key and value is rounded once to the nearest IEEE half (at most 2^-11 of
     * itself) and the cache takes half the bytes, so a decode step's attention over a long history, bound by the bytes
     * it reads, costs about half (llama.cpp's default cache is float16 too). Applies on the Java pass where the native
     * attention runs (the native library loaded, heads of multiples of 8 dimensions, no attention-logit soft-capping,
     * i.e. not Gemma 2); elsewhere, and on the PyTorch engine pass, the cache stays float32 and one warning says why.
     */
    public KvCachePrecision kvCache() {
        return kvCache;
    }

    /** The system property naming a weight cache folder, the default of {@link #weightCache()} where it is set. */
    public static final String WEIGHT_CACHE_PROPERTY = "amulet.weightCache";

    /**
     * Where a checkpoint's weights are cached as the native kernels hold them (with the native kernels only): a
     * model's first load writes a cache file there, and the next loads map it in place instead of reading and
     * converting the checkpoint (the user guide's "Cold start"); null: no cache (the default, unless the system
     * property {@value #WEIGHT_CACHE_PROPERTY} names a folder, as the {@code amulet} launcher does).
     */
    public WeightCache weightCache() {
        return weightCache;
    }

    /**
     * MiB the model's prompt cache may hold (default {@value #DEFAULT_PROMPT_CACHE_MIB}; 0 turns it off): the keys
     * and values of earlier prompts and answers, per stream, so that a prompt starting with one of them prefills only
     * the rest (a conversation's next turn, another preference over the same history, requests sharing a system
     * prompt). Least recently used entries are evicted to stay within it. Used on the Java pass only; the PyTorch
     * engine pass runs without it (logged once).
     */
    public int promptCacheMib() {
        return promptCacheMib;
    }

    /**
     * Default of {@link #promptCacheMib()}: about 40,000 tokens of the Qwen2.5-0.5B shape (24 KiB a token), 4,000 of
     * an 8B Llama (256 KiB a token), at most a quarter of the heap (src-docs/user-guide.md).
     */
    public static final int DEFAULT_PROMPT_CACHE_MIB = 1024;

    /**
     * Checks a {@link #promptCacheMib()} value.
     *
     * @throws IllegalArgumentException if negative or above 1048576 (1 TiB)
     */
    public static int requireValidPromptCacheMib(int promptCacheMib) {
        if (promptCacheMib < 0 || promptCacheMib > 1 << 20) {
            throw new IllegalArgumentException("promptCacheMib must be in [0, 1048576] (MiB; 0 turns the prompt cache "
                    + "off), got " + promptCacheMib);
        }
        return promptCacheMib;
    }

    /** Default of {@link #prefillChunk()}, chosen by measurement (src-docs/benchmarks-decode.md). */
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    /**
     * Checks a {@link #prefillChunk()} value.
     *
     * @throws IllegalArgumentException if below 1
     */
    public static int requireValidPrefillChunk(int prefillChunk) {
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefillChunk must be >= 1 (tokens per stream per forward pass), got "
                    + prefillChunk);
        }
        return prefillChunk;
    }

    /** Which code multiplies the linear layers ({@link LinearKernel#AUTO} by default). */
    public LinearKernel linearKernel() {
        return linearKernel;
    }

    /** How the weights are held for the Java kernels ({@link Weights#AUTO} by default: the checkpoint's precision). */
    public Weights weights() {
        return weights;
    }

    /**
     * {@link #linearKernel()} resolved for this device, dtype and JVM: AUTO becomes JAVA on the CPU in float32 when
     * the Vector API is present, else ENGINE.
     *
     * @throws IllegalStateException if JAVA was asked for where it cannot run, or {@link #weights()} needs the Java
     *                               kernels and they cannot run or ENGINE was asked for, naming what is missing
     */
    public LinearKernel effectiveLinearKernel() {
        boolean possible = !device.isGpu() && computeType == DataType.FLOAT32 && VectorSupport.available();
        String why = "the CPU, float32 and the Vector API (start Java with " + VectorSupport.JVM_OPTION + "); got device "
                + device + ", " + computeType + ", Vector API " + (VectorSupport.available() ? "present"
                : "absent: " + VectorSupport.unavailableReason());
        if (weights.javaOnly()) {
            if (linearKernel == LinearKernel.ENGINE) {
                throw new IllegalStateException("weights " + weights + " need linearKernel JAVA or AUTO (PyTorch holds "
                        + "float32 or float16 only); use weights AUTO or F32 with the engine kernel");
            }
            if (!possible) {
                throw new IllegalStateException("weights " + weights + " need the Java kernels, which need " + why
                        + (device.isGpu() ? " (on a GPU, weights are PyTorch float16/float32: choose the dtype)" : ""));
            }
            return LinearKernel.JAVA;
        }
        return switch (linearKernel) {
            case ENGINE -> LinearKernel.ENGINE;
            case AUTO -> possible ? LinearKernel.JAVA : LinearKernel.ENGINE;
            case JAVA -> {
                if (!possible) {
                    throw new IllegalStateException("linearKernel JAVA needs " + why);
                }
                yield LinearKernel.JAVA;
            }
        };
    }

    /**
     * Checks a {@link #productThreads()} value.
     *
     * @throws IllegalArgumentException if negative or above 256
     */
    public static int requireValidProductThreads(int productThreads) {
        if (productThreads < 0 || productThreads > 256) {
            throw new IllegalArgumentException("productThreads must be in [0, 256] (0 = automatic), got "
                    + productThreads);
        }
        return productThreads;
    }

    /** Most threads the automatic {@link #productThreads()} setting uses. */
    public static final int MAX_AUTO_PRODUCT_THREADS = 8;

    /** {@link #productThreads()} with 0 resolved for this device and machine. */
    public int effectiveProductThreads() {
        if (productThreads > 0) {
            return productThreads;
        }
        if (device.isGpu()) {
            return 1;
        }
        return Math.max(1, Math.min(MAX_AUTO_PRODUCT_THREADS, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Rejects every compute dtype except FLOAT32 and FLOAT16.
     *
     * @throws IllegalArgumentException for BFLOAT16 (which would abort the JVM inside DJL's JNI) and any other type
     */
    public static DataType requireSupportedComputeType(DataType type) {
        Objects.requireNonNull(type, "computeType");
        if (type == DataType.BFLOAT16) {
            throw new IllegalArgumentException("computeType BFLOAT16 is not supported: DJL 0.36's PyTorch JNI aborts "
                    + "the JVM on BFLOAT16 arrays; use FLOAT32 or FLOAT16 (BF16 checkpoints are widened on load)");
        }
        if (type != DataType.FLOAT32 && type != DataType.FLOAT16) {
            throw new IllegalArgumentException("computeType must be FLOAT32 or FLOAT16, got " + type);
        }
        return type;
    }

    /**
     * A device from its name: {@code cpu}, {@code gpu} (the first CUDA GPU) or {@code gpu:N} / {@code gpuN}, in any case.
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static Device parseDevice(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("cpu")) {
            return Device.cpu();
        }
        if (n.equals("gpu") || n.equals("cuda")) {
            return Device.gpu();
        }
        String index = n.startsWith("gpu:") || n.startsWith("cuda:") ? n.substring(n.indexOf(':') + 1)
                : n.startsWith("gpu") ? n.substring(3) : null;
        if (index != null && !index.isEmpty() && index.chars().allMatch(Character::isDigit) && index.length() <= 4) {
            return Device.gpu(Integer.parseInt(index));
        }
        throw new IllegalArgumentException("unknown device '" + name + "'; valid: cpu, gpu, gpu:N");
    }

    /**
     * A compute dtype from its name: {@code float32} / {@code f32} or {@code float16} / {@code f16}, in any case.
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static DataType parseComputeType(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "float32", "f32", "fp32" -> DataType.FLOAT32;
            case "float16", "f16", "fp16", "half" -> DataType.FLOAT16;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "'; valid: float32, float16");
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RuntimeOptions r && r.device.equals(device) && r.computeType == computeType
                && r.useKvCache == useKvCache && r.checkpointName.equals(checkpointName)
                && r.initialCacheCapacity == initialCacheCapacity && r.productThreads == productThreads
                && r.linearKernel == linearKernel && r.weights == weights
                && r.prefillChunk == prefillChunk && r.kernels == kernels && r.kvCache == kvCache
                && r.promptCacheMib == promptCacheMib && Objects.equals(r.weightCache, weightCache);
    }

    @Override
    public int hashCode() {
        return Objects.hash(device, computeType, useKvCache, checkpointName, initialCacheCapacity, productThreads,
                linearKernel, weights, prefillChunk, kernels, kvCache, promptCacheMib, weightCache);
    }

    @Override
    public String toString() {
        return "RuntimeOptions[device=" + device + ", computeType=" + computeType + ", useKvCache=" + useKvCache
                + ", checkpointName=" + checkpointName + ", initialCacheCapacity=" + initialCacheCapacity
                + ", productThreads=" + (productThreads == 0 ? "auto" : productThreads) + ", linearKernel=" + linearKernel + ", weights=" + weights
                + ", prefillChunk=" + prefillChunk + ", kernels=" + kernels + ", kvCache=" + kvCache
                + ", promptCacheMib=" + promptCacheMib + ", weightCache=" + weightCache + "]";
    }

    /** Builder for {@link RuntimeOptions}; every setter validates its argument. */
    public static final class Builder {
        private Device device = Device.cpu();
        private DataType computeType = DataType.FLOAT32;
        private boolean useKvCache = true;
        private String checkpointName = "checkpoint";
        private int initialCacheCapacity = 64;
        private int productThreads;
        private LinearKernel linearKernel = LinearKernel.AUTO;
        private Weights weights = Weights.AUTO;
        private int prefillChunk = DEFAULT_PREFILL_CHUNK;
        private Kernels kernels = Kernels.AUTO;
        private KvCachePrecision kvCache = KvCachePrecision.F32;
        private int promptCacheMib = DEFAULT_PROMPT_CACHE_MIB;
        private WeightCache weightCache = defaultWeightCache();

        private Builder() {
        }

        /** The folder of {@value #WEIGHT_CACHE_PROPERTY}, or null. */
        private static WeightCache defaultWeightCache() {
            String dir = System.getProperty(WEIGHT_CACHE_PROPERTY, "").trim();
            return dir.isEmpty() ? null : WeightCache.in(java.nio.file.Path.of(dir));
        }

        /** Where the native kernels' weights are cached (null: not cached; see {@link RuntimeOptions#weightCache()}). */
        public Builder weightCache(WeightCache weightCache) {
            this.weightCache = weightCache;
            return this;
        }

        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** @throws IllegalArgumentException for anything but FLOAT32 / FLOAT16 (BFLOAT16 in particular) */
        public Builder computeType(DataType computeType) {
            this.computeType = requireSupportedComputeType(computeType);
            return this;
        }

        public Builder useKvCache(boolean useKvCache) {
            this.useKvCache = useKvCache;
            return this;
        }

        public Builder checkpointName(String checkpointName) {
            this.checkpointName = Objects.requireNonNull(checkpointName, "checkpointName");
            return this;
        }

        public Builder initialCacheCapacity(int initialCacheCapacity) {
            if (initialCacheCapacity < 1) {
                throw new IllegalArgumentException("initialCacheCapacity must be >= 1, got " + initialCacheCapacity);
            }
            this.initialCacheCapacity = initialCacheCapacity;
            return this;
        }

        /**
         * Threads per linear product on the CPU (0 = automatic, the default).
         *
         * @throws IllegalArgumentException if negative or above 256
         */
        public Builder productThreads(int productThreads) {
            this.productThreads = requireValidProductThreads(productThreads);
            return this;
        }

        /** Which kernels the Java path uses (default {@link Kernels#AUTO}; see {@link RuntimeOptions#kernels()}). */
        public Builder kernels(Kernels kernels) {
            this.kernels = Objects.requireNonNull(kernels, "kernels");
            return this;
        }

        /**
         * The precision of the KV cache (default {@link KvCachePrecision#F32}; see {@link RuntimeOptions#kvCache()}).
         *
         * @throws NullPointerException if null
         */
        public Builder kvCache(KvCachePrecision kvCache) {
            this.kvCache = Objects.requireNonNull(kvCache, "kvCache");
            return this;
        }

        /** Which code multiplies the linear layers (default {@link LinearKernel#AUTO}). */
        public Builder linearKernel(LinearKernel linearKernel) {
            this.linearKernel = Objects.requireNonNull(linearKernel, "linearKernel");
            return this;
        }

        /**
         * Most tokens per stream per forward pass of a prefill (default {@value #DEFAULT_PREFILL_CHUNK}).
         *
         * @throws IllegalArgumentException if below 1
         */
        public Builder prefillChunk(int prefillChunk) {
            this.prefillChunk = requireValidPrefillChunk(prefillChunk);
            return this;
        }

        /**
         * MiB the prompt cache may hold, 0 for none (default {@value #DEFAULT_PROMPT_CACHE_MIB}).
         *
         * @throws IllegalArgumentException if negative or above 1048576
         */
        public Builder promptCacheMib(int promptCacheMib) {
            this.promptCacheMib = requireValidPromptCacheMib(promptCacheMib);
            return this;
        }

        /** How the weights are held for the Java kernels (default {@link Weights#AUTO}). */
        public Builder weights(Weights weights) {
            this.weights = Objects.requireNonNull(weights, "weights");
            return this;
        }

        public RuntimeOptions build() {
            return new RuntimeOptions(this);
        }
    }
}
