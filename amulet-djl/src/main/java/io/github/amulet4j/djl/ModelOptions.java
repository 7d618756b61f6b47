package io.github.amulet4j.djl;


import io.github.amulet4j.djl.model.RuntimeOptions;

import io.github.amulet4j.djl.hub.DownloadListener;
import io.github.amulet4j.djl.hub.HubSettings;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What {@link AmuletModel#load(ModelOptions)} loads and how it runs it: the model (a local Hugging Face
 * folder or a Hub id), the Hub revision, for a Hub id where the Hub and its cache are ({@link HubSettings}, by
 * default from the environment: {@code HF_ENDPOINT}, {@code HF_HUB_CACHE}, {@code HF_TOKEN}, ...) and who hears
 * about download progress ({@link DownloadListener}), and the engine options ({@link RuntimeOptions}: device,
 * compute dtype, KV cache, product threads, linear kernel), which are declared and validated there only.
 * Immutable; build with {@link #builder()}. Defaults: {@value #DEFAULT_MODEL}, revision {@code main},
 * {@link RuntimeOptions#defaults()} (CPU, float32, KV cache on), Hub settings from the environment, no download
 * listener.
 *
 * <pre>{@code
 * ModelOptions gpu = ModelOptions.builder().model("Qwen/Qwen2.5-0.5B-Instruct")
 *         .runtime(r -> r.device(Device.gpu()).computeType(DataType.FLOAT16))
 *         .build();
 * }</pre>
 */
public final class ModelOptions {

    /** The model loaded when none is named (the command line's default too). */
    public static final String DEFAULT_MODEL = "Qwen/Qwen2.5-0.5B-Instruct";

    private final String model;
    private final String revision;
    private final RuntimeOptions runtime;
    private final HubSettings hubSettings;
    private final DownloadListener downloadListener;

    private ModelOptions(Builder b) {
        this.model = b.model;
        this.revision = b.revision;
        this.runtime = b.runtime.build();
        this.hubSettings = b.hubSettings;
        this.downloadListener = b.downloadListener;
    }

    /** The defaults: {@value #DEFAULT_MODEL} on the CPU in float32 with a KV cache. */
    public static ModelOptions defaults() {
        return builder().build();
    }

    /** Options for a local model folder or GGUF file ({@code .gguf}), other settings at their defaults. */
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
        return new Builder().model(model).revision(revision).runtime(runtime).hubSettings(hubSettings)
                .downloadListener(downloadListener);
    }

    /** The model: a local folder path, a GGUF file path or a Hub id such as {@code Qwen/Qwen2.5-0.5B-Instruct}. */
    public String model() {
        return model;
    }

    /** The Hub revision (branch, tag or commit) used when {@link #model()} is a Hub id. */
    public String revision() {
        return revision;
    }

    /**
     * How the model runs: device, compute dtype, KV cache, product threads, linear kernel (its checkpoint name is
     * set from {@link #model()} at load time).
     */
    public RuntimeOptions runtime() {
        return runtime;
    }

    /**
     * MiB the model's prompt cache may hold ({@link RuntimeOptions#promptCacheMib()}; 0: no prompt cache): the KV
     * rows of earlier prompts and answers, so that a conversation's next turn, or the same history under another
     * preference, prefills only its new tokens.
     */
    public int promptCacheMib() {
        return runtime.promptCacheMib();
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
                && m.runtime.equals(runtime) && Objects.equals(m.hubSettings, hubSettings)
                && m.downloadListener == downloadListener;
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, revision, runtime, hubSettings);
    }

    @Override
    public String toString() {
        return "ModelOptions[model=" + model + ", revision=" + revision + ", " + runtime
                + ", hub=" + (hubSettings == null ? "from environment" : hubSettings) + "]";
    }

    /** Builder of {@link ModelOptions}; each setter validates its argument. */
    public static final class Builder {
        private String model = DEFAULT_MODEL;
        private String revision = "main";
        private RuntimeOptions.Builder runtime = RuntimeOptions.builder();
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

        /** A local model folder or GGUF file. */
        public Builder model(Path folder) {
            return model(Objects.requireNonNull(folder, "folder").toString());
        }

        /**
         * MiB the prompt cache may hold, 0 for none (default {@value RuntimeOptions#DEFAULT_PROMPT_CACHE_MIB}); sets
         * {@link RuntimeOptions#promptCacheMib()} of the runtime options.
         *
         * @throws IllegalArgumentException if negative or above 1048576
         */
        public Builder promptCacheMib(int promptCacheMib) {
            return runtime(r -> r.promptCacheMib(promptCacheMib));
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

        /** The engine options, replacing any set before. */
        public Builder runtime(RuntimeOptions runtime) {
            this.runtime = Objects.requireNonNull(runtime, "runtime").toBuilder();
            return this;
        }

        /**
         * Changes the engine options in place, e.g. {@code runtime(r -> r.device(Device.gpu()))}; the setters of
         * {@link RuntimeOptions.Builder} validate as usual.
         */
        public Builder runtime(Consumer<RuntimeOptions.Builder> change) {
            Objects.requireNonNull(change, "change").accept(runtime);
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

        public ModelOptions build() {
            return new ModelOptions(this);
        }
    }
}
