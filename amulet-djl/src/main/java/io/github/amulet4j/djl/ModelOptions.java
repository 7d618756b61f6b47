package io.github.amulet4j.djl;

import io.github.amulet4j.djl.model.RuntimeOptions;

import io.github.amulet4j.djl.hub.DownloadListener;
import io.github.amulet4j.djl.hub.HubSettings;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What {@link AmuletModel#load(ModelOptions)} loads and how it runs it: the model (a local Hugging Face
 * folder or a Hub id), the Hub revision, the device, the compute dtype and whether decoding keeps a KV
 * cache; for a Hub id also where the Hub and its cache are ({@link HubSettings}, by default from the
 * environment: {@code HF_ENDPOINT}, {@code HF_HUB_CACHE}, {@code HF_TOKEN}, ...) and who hears about download
 * progress ({@link DownloadListener}). Immutable; build with {@link #builder()}. Defaults:
 * {@value #DEFAULT_MODEL}, revision {@code main}, CPU, float32, KV cache on, Hub settings from the environment,
 * no download listener.
 */
public final class ModelOptions {

    /** The model loaded when none is named. */
    public static final String DEFAULT_MODEL = "Qwen/Qwen2.5-0.5B-Instruct";

    /** Where the model runs. */
    public enum Device {
        /** The CPU, with the PyTorch natives bundled in the dependencies. */
        CPU,
        /** The first CUDA GPU; needs the CUDA PyTorch natives (see the user guide). */
        GPU;

        /** {@code cpu} or {@code gpu}, case-insensitive. @throws IllegalArgumentException listing the valid names */
        public static Device parse(String name) {
            return parseEnum(Device.class, "device", name);
        }
    }

    /** The dtype weights and activations are computed in (checkpoint weights are converted on load). */
    public enum Dtype {
        /** 32-bit floats (the default; exact on CPU). */
        FLOAT32,
        /** 16-bit floats (half the memory; meant for GPUs). */
        FLOAT16;

        /** {@code float32} or {@code float16}, case-insensitive. @throws IllegalArgumentException listing the valid names */
        public static Dtype parse(String name) {
            return parseEnum(Dtype.class, "dtype", name);
        }
    }

    private final String model;
    private final String revision;
    private final Device device;
    private final Dtype dtype;
    private final boolean kvCache;
    private final int productThreads;
    private final RuntimeOptions.LinearKernel linearKernel;
    private final HubSettings hubSettings;
    private final DownloadListener downloadListener;

    private ModelOptions(Builder b) {
        this.model = b.model;
        this.revision = b.revision;
        this.device = b.device;
        this.dtype = b.dtype;
        this.kvCache = b.kvCache;
        this.productThreads = b.productThreads;
        this.linearKernel = b.linearKernel;
        this.hubSettings = b.hubSettings;
        this.downloadListener = b.downloadListener;
    }

    /** The defaults: {@value #DEFAULT_MODEL} on the CPU in float32 with a KV cache. */
    public static ModelOptions defaults() {
        return builder().build();
    }

    /** Options for a local model folder, other settings at their defaults. */
    public static ModelOptions of(Path folder) {
        return builder().model(folder).build();
    }

    /** Options for a model folder path or Hub id, other settings at their defaults. */
    public static ModelOptions of(String model) {
        return builder().model(model).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with these values. */
    public Builder toBuilder() {
        return new Builder().model(model).revision(revision).device(device).dtype(dtype).kvCache(kvCache)
                .productThreads(productThreads).linearKernel(linearKernel).hubSettings(hubSettings).downloadListener(downloadListener);
    }

    /** The model: a local folder path or a Hub id such as {@code Qwen/Qwen2.5-0.5B-Instruct}. */
    public String model() {
        return model;
    }

    /** The Hub revision (branch, tag or commit) used when {@link #model()} is a Hub id. */
    public String revision() {
        return revision;
    }

    public Device device() {
        return device;
    }

    public Dtype dtype() {
        return dtype;
    }

    /**
     * Threads that share each one-column product of a decode step on the CPU (0 = automatic, the default); see
     * {@link io.github.amulet4j.djl.model.RuntimeOptions#productThreads()}.
     */
    public int productThreads() {
        return productThreads;
    }

    /**
     * Which code multiplies the linear layers on the CPU (AUTO by default: Java Vector API kernels over weights on
     * the Java heap when the JVM has {@code --add-modules jdk.incubator.vector} and float32, else PyTorch); see
     * {@link RuntimeOptions.LinearKernel}.
     */
    public RuntimeOptions.LinearKernel linearKernel() {
        return linearKernel;
    }

    /** Whether decoding keeps a KV cache (default) or recomputes the whole prefix each step. */
    public boolean kvCache() {
        return kvCache;
    }

    /**
     * The Hub settings a Hub id is resolved with; empty means {@link HubSettings#fromEnvironment()} at load time.
     */
    public Optional<HubSettings> hubSettings() {
        return Optional.ofNullable(hubSettings);
    }

    /** Who hears about the files of a Hub id being downloaded (or found in the cache). */
    public DownloadListener downloadListener() {
        return downloadListener;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelOptions m && m.model.equals(model) && m.revision.equals(revision)
                && m.device == device && m.dtype == dtype && m.kvCache == kvCache
                && m.productThreads == productThreads && m.linearKernel == linearKernel
                && Objects.equals(m.hubSettings, hubSettings) && m.downloadListener == downloadListener;
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, revision, device, dtype, kvCache, productThreads, linearKernel, hubSettings);
    }

    @Override
    public String toString() {
        return "ModelOptions[model=" + model + ", revision=" + revision + ", device=" + device + ", dtype=" + dtype
                + ", kvCache=" + kvCache + ", productThreads=" + (productThreads == 0 ? "auto" : productThreads) + ", linearKernel=" + linearKernel
                + ", hub=" + (hubSettings == null ? "from environment" : hubSettings) + "]";
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String what, String name) {
        if (name != null) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(name.trim())) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + name + "'; valid: "
                + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")));
    }

    /** Builder of {@link ModelOptions}; each setter validates its argument. */
    public static final class Builder {
        private String model = DEFAULT_MODEL;
        private String revision = "main";
        private Device device = Device.CPU;
        private Dtype dtype = Dtype.FLOAT32;
        private boolean kvCache = true;
        private int productThreads;
        private RuntimeOptions.LinearKernel linearKernel = RuntimeOptions.LinearKernel.AUTO;
        private HubSettings hubSettings;
        private DownloadListener downloadListener = DownloadListener.NONE;

        private Builder() {
        }

        /** A local folder path or a Hub id. @throws IllegalArgumentException when blank */
        public Builder model(String model) {
            Objects.requireNonNull(model, "model");
            if (model.isBlank()) {
                throw new IllegalArgumentException("model must be a folder path or a Hub id, got an empty string");
            }
            this.model = model.trim();
            return this;
        }

        /** A local model folder. */
        public Builder model(Path folder) {
            return model(Objects.requireNonNull(folder, "folder").toString());
        }

        /** Hub revision. @throws IllegalArgumentException when blank */
        public Builder revision(String revision) {
            Objects.requireNonNull(revision, "revision");
            if (revision.isBlank()) {
                throw new IllegalArgumentException("revision must not be empty");
            }
            this.revision = revision.trim();
            return this;
        }

        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        public Builder dtype(Dtype dtype) {
            this.dtype = Objects.requireNonNull(dtype, "dtype");
            return this;
        }

        public Builder kvCache(boolean kvCache) {
            this.kvCache = kvCache;
            return this;
        }

        /** Hub endpoint, cache, token and offline mode for a Hub id; null: from the environment at load time. */
        public Builder hubSettings(HubSettings hubSettings) {
            this.hubSettings = hubSettings;
            return this;
        }

        /** Receives download progress of a Hub id's files (for a progress bar); default {@link DownloadListener#NONE}. */
        public Builder downloadListener(DownloadListener downloadListener) {
            this.downloadListener = Objects.requireNonNull(downloadListener, "downloadListener");
            return this;
        }

        /**
         * Threads per one-column product on the CPU (0 = automatic, the default).
         *
         * @throws IllegalArgumentException if negative or above 256
         */
        public Builder productThreads(int productThreads) {
            this.productThreads = RuntimeOptions.requireValidProductThreads(productThreads);
            return this;
        }

        /** Which code multiplies the linear layers (default AUTO). */
        public Builder linearKernel(RuntimeOptions.LinearKernel linearKernel) {
            this.linearKernel = Objects.requireNonNull(linearKernel, "linearKernel");
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(this);
        }
    }
}
