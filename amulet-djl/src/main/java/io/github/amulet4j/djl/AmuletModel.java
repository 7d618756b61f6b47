package io.github.amulet4j.djl;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.djl.tokenizer.TokenizerJsonCache;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.ContinuousBatcher;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.Generator;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Hugging Face model loaded for Amulet decoding: the public entry point of the library.
 *
 * <pre>{@code
 * try (AmuletModel model = AmuletModel.load(ModelOptions.of("Qwen/Qwen2.5-0.5B-Instruct"))) {
 *     GenerationResult r = model.generate("What is the ozone layer?", Preference.of("concise"),
 *             GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(64).build());
 *     System.out.println(r.text());
 * }
 * }</pre>
 *
 * <p>{@link #load} resolves a Hub id through the Hugging Face cache (downloading what is missing) or uses
 * a local folder or GGUF file ({@code .gguf}: config, tokenizer, template and weights from its metadata and
 * tensors), reads {@code config.json}, opens the safetensors checkpoint, builds the DJL model, the
 * tokenizer, the chat template and the end-of-sequence ids. Every request is rendered into a base and a
 * preference stream; all streams of all requests of a call decode together, one forward pass per step.
 *
 * <p>Threads: one model may be shared, and its generate calls are serialized: a call made while another
 * thread's call is in flight waits for it to finish (so a listener must not wait for another thread's call on
 * the same model). To decode several requests at once, pass them as one batch. {@link #close} waits for the
 * call in flight.
 */
public final class AmuletModel implements AutoCloseable {

    private final String name;
    private final ModelOptions options;
    private final PromptRenderer prompts;
    private final DjlCausalLm lm;
    private final Generator generator;
    /** One generation at a time: the model's product workers and engine state serve one caller. */
    private final java.util.concurrent.locks.ReentrantLock generating = new java.util.concurrent.locks.ReentrantLock();

    private AmuletModel(String name, ModelOptions options, PromptRenderer prompts, DjlCausalLm lm) {
        this.name = name;
        this.options = options;
        this.prompts = prompts;
        this.lm = lm;
        int[] eos = prompts.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
        this.generator = new Generator(lm, prompts.tokenizer(), GenerationConfig.defaults(), eos);
    }

    /**
     * Loads the model {@code options} names.
     *
     * @throws IOException              when a file cannot be read or downloaded
     * @throws IllegalArgumentException when a local folder does not exist
     * @throws io.github.amulet4j.formats.checkpoint.CheckpointException naming the file (and field) for a missing or
     *         malformed {@code config.json}, unsupported architecture, missing or malformed weights
     * @throws io.github.amulet4j.formats.tokenizer.TokenizerFormatException naming the file for a missing or
     *         malformed tokenizer
     * @throws IllegalStateException    when {@code --device gpu} is asked and no GPU is visible
     */
    public static AmuletModel load(ModelOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        // the tokenizers library loads beside the header, the weights and the tokenizer's JSON (issue 26: cold start)
        HfTokenizer.preloadLibrary();
        Path folder = ModelFiles.resolve(options, true);
        if (GgufModel.isGguf(folder.toString())) {
            return loadGguf(folder, options);
        }
        // the tokenizer and template load on another thread while this one loads the weights
        ModelConfig config = ModelConfigReader.readFolder(folder);
        BackgroundPrompts background = BackgroundPrompts.start(() -> PromptRenderer.load(folder, config));
        DjlCausalLm lm;
        try (TensorStore store = Checkpoints.open(folder)) {
            lm = DjlCausalLm.load(config, store, runtimeOptions(options));
        } catch (IOException | RuntimeException | Error e) {
            background.abandon(e);
            throw e;
        }
        return assemble(options, background, lm);
    }

    /** A GGUF file: config, tokenizer and weights from the one file (opened once). */
    private static AmuletModel loadGguf(Path file, ModelOptions options) throws IOException {
        try (GgufModel gguf = GgufModel.open(file)) {
            RuntimeOptions runtime = runtimeOptions(options);
            // the tokenizer's JSON, which the metadata makes, is kept beside the cached weights
            TokenizerJsonCache tokenizerCache = runtime.weightCache() == null ? null
                    : TokenizerJsonCache.in(runtime.weightCache().dir());
            BackgroundPrompts background = BackgroundPrompts.start(() -> PromptRenderer.load(gguf, tokenizerCache));
            DjlCausalLm lm;
            try {
                lm = DjlCausalLm.load(gguf.config(), gguf.weights(), runtime);
            } catch (RuntimeException | Error e) {
                background.abandon(e);
                throw e;
            }
            // (joined before the file closes: the prompt side reads its metadata)
            return assemble(options, background, lm);
        }
    }

    /** The model from its weights and the prompt side loaded beside them; a failure releases both. */
    private static AmuletModel assemble(ModelOptions options, BackgroundPrompts background, DjlCausalLm lm)
            throws IOException {
        PromptRenderer prompts;
        try {
            prompts = background.join();
        } catch (IOException | RuntimeException | Error e) {
            lm.close();
            throw e;
        }
        try {
            return new AmuletModel(options.model(), options, prompts, lm);
        } catch (RuntimeException | Error e) {
            // a failed load releases what it started: the model's native memory and threads, the tokenizer
            lm.close();
            prompts.close();
            throw e;
        }
    }

    private static RuntimeOptions runtimeOptions(ModelOptions options) {
        return options.runtime().toBuilder().checkpointName(options.model()).build();
    }

    /** Loads a local model folder (or GGUF file) with default options. */
    public static AmuletModel load(Path folder) throws IOException {
        return load(ModelOptions.of(folder));
    }

    /** The model as named in the options (a folder path or a Hub id). */
    public String name() {
        return name;
    }

    /** The options it was loaded with. */
    public ModelOptions options() {
        return options;
    }

    /** The local folder the model was read from (a Hub snapshot folder for a Hub id). */
    public Path folder() {
        return prompts.folder();
    }

    /** The model's {@code config.json}. */
    public ModelConfig config() {
        return prompts.config();
    }

    /** The causal LM behind this model (tests read its logits). */
    DjlCausalLm causalLm() {
        return lm;
    }

    /** The prompt renderer (chat template and tokenizer) this model uses. */
    public PromptRenderer prompts() {
        return prompts;
    }

    /** One question with a preference and the paper's defaults ({@code amulet}, greedy, 128 new tokens). */
    public GenerationResult generate(String question, Preference preference) {
        return generate(AmuletRequest.of(question, preference), TokenListener.NONE);
    }

    /** One question with a preference and a configuration. */
    public GenerationResult generate(String question, Preference preference, GenerationConfig config) {
        return generate(AmuletRequest.builder(question).preference(preference).config(config).build(), TokenListener.NONE);
    }

    /** Continues a conversation, streaming the tokens to {@code listener} as they are chosen. */
    public GenerationResult generate(Conversation conversation, Preference preference, GenerationConfig config,
                                     TokenListener listener) {
        return generate(AmuletRequest.builder(conversation).preference(preference).config(config).build(), listener);
    }

    /** One request, streaming its tokens to {@code listener} (request index 0). */
    public GenerationResult generate(AmuletRequest request, TokenListener listener) {
        return generate(List.of(request), listener).get(0);
    }

    /** A batch of requests decoded together; results in request order. */
    public List<GenerationResult> generate(List<AmuletRequest> requests) {
        return generate(requests, TokenListener.NONE);
    }

    /**
     * A batch of requests decoded together (one forward pass per step for all their streams), each with its
     * own preference and configuration; results in request order, tokens streamed with the request's index.
     *
     * @throws IllegalArgumentException when a request's method needs a preference it lacks, or a prompt is too long
     */
    public List<GenerationResult> generate(List<AmuletRequest> requests, TokenListener listener) {
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(listener, "listener");
        generating.lock();
        try {
            List<GenerationRequest> batch = new ArrayList<>(requests.size());
            for (int i = 0; i < requests.size(); i++) {
                batch.add(toGenerationRequest(Objects.requireNonNull(requests.get(i), "request " + i), i));
            }
            return generator.generate(batch, listener);
        } finally {
            generating.unlock();
        }
    }

    /**
     * One request whose prompts are token ids already (see {@link #generateTokenIds(List, TokenListener)}).
     */
    public GenerationResult generateTokenIds(GenerationRequest request, TokenListener listener) {
        return generateTokenIds(List.of(request), listener).get(0);
    }

    /**
     * A batch of requests whose prompts are token ids already: no chat template and no preference text are applied
     * (the caller built each stream, for instance from {@link PromptRenderer#render}, or for a benchmark with prompts
     * of exact lengths). Decoded as {@link #generate(List, TokenListener)} decodes rendered requests: one forward
     * pass per step for all streams, the model's end-of-sequence ids, each request's configuration or the defaults.
     *
     * @throws IllegalArgumentException when a request lacks a prompt its method needs, a prompt is too long, or an id
     *                                  is outside the model's vocabulary
     */
    public List<GenerationResult> generateTokenIds(List<GenerationRequest> requests, TokenListener listener) {
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(listener, "listener");
        generating.lock();
        try {
            return generator.generate(requests, listener);
        } finally {
            generating.unlock();
        }
    }

    /**
     * Starts continuous batching over this model: requests from any thread join one running batch (see
     * {@link AmuletBatcher}). While the batcher runs, generate only through it; close it before the model.
     */
    public AmuletBatcher batcher(BatchingOptions batching) {
        int[] eos = prompts.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
        return new AmuletBatcher(this, new ContinuousBatcher(lm, prompts.tokenizer(), generator.defaults(), batching, eos));
    }

    GenerationRequest toGenerationRequest(AmuletRequest r, int index) {
        GenerationConfig config = r.config().orElse(generator.defaults());
        AlignmentMethod method = config.method();
        PromptStyle style = r.promptStyle();
        if (r.preference().isEmpty() && method.needsPreference()) {
            throw new IllegalArgumentException("request " + index + ": method '" + method.id()
                    + "' needs a preference");
        }
        PromptPair p = prompts.renderFor(method, r.conversation(), r.preference().orElse(null), style);
        GenerationRequest g;
        if (p.preference() == null) {
            g = GenerationRequest.baseOnly(p.base().tokenIds());
        } else if (p.base() == null) {
            g = GenerationRequest.preferenceOnly(p.preference().tokenIds());
        } else {
            g = GenerationRequest.of(p.base().tokenIds(), p.preference().tokenIds());
        }
        return r.config().isPresent() ? g.withConfig(config) : g;
    }

    /**
     * The request's conversation trimmed to fit the model's context with room for the answer: the oldest exchanges
     * are dropped ({@link Conversation#trimmedTo}) until the longest prompt the request's method feeds (the
     * preference stream with its preference, the base stream) takes at most {@link #maxPositions()} minus the room
     * kept for the answer: the request's {@code maxNewTokens}, at most half the context. The system text, the
     * preference and the last turn are always kept. Returns the conversation itself when it fits.
     *
     * @throws IllegalArgumentException when the last turn alone does not fit, naming the prompt's tokens, the
     *                                  context's positions and the room kept for the answer
     */
    public Conversation fitToContext(AmuletRequest request) {
        Objects.requireNonNull(request, "request");
        GenerationConfig config = request.config().orElse(generator.defaults());
        int context = lm.maxPositions();
        int reserve = Math.min(config.maxNewTokens(), context / 2);
        int budget = context - reserve;
        try {
            return request.conversation().trimmedTo(budget, c -> promptTokens(c, request, config.method()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ": the context of " + name + " is " + context
                    + " positions, " + reserve + " of them kept for the answer (max new tokens)", e);
        }
    }

    /**
     * What the model's prompt cache ({@link ModelOptions#promptCacheMib()}) did and holds: prompts looked up, hits,
     * tokens reused and prefilled, entries and bytes held. Empty when there is none (a budget of 0, or the PyTorch
     * engine pass, which runs without one).
     */
    public java.util.Optional<io.github.amulet4j.transformer.PromptCache.Stats> promptCacheStats() {
        return lm.promptCache().map(io.github.amulet4j.transformer.PromptCache::stats);
    }

    /**
     * The precision the KV caches of this model's sessions hold: {@link RuntimeOptions#kvCache()} where it applies,
     * else float32 (see there).
     */
    public io.github.amulet4j.transformer.KvCachePrecision kvCachePrecision() {
        return lm.kvCachePrecision();
    }

    /**
     * What the model holds and reads: its weights, the weights one decode step reads, the KV cache per stream and
     * position, and how the linear layers run.
     */
    public ModelMemory memory() {
        int bytesPerValue = options.runtime().computeType().getNumOfBytes();
        boolean javaKernels = lm.linearLayersOnHeap();
        long perToken = javaKernels ? lm.weightBytesPerToken()
                : ModelMemory.weightElementsPerToken(config()) * bytesPerValue;
        // the Java pass's cache: float32 or, where asked and the native attention runs, float16
        int kvBytes = lm.forward() instanceof io.github.amulet4j.transformer.JavaForward
                ? lm.kvCachePrecision().bytesPerElement() : bytesPerValue;
        long kv = options.runtime().useKvCache() ? ModelMemory.kvCacheBytesPerToken(config(), kvBytes) : 0;
        return new ModelMemory(lm.weightBytes(), perToken, kv, javaKernels, javaKernels ? lm.weightFormats() : "");
    }

    /** Positions of the model's context (its {@code max_position_embeddings}). */
    public int maxPositions() {
        return lm.maxPositions();
    }

    /** Tokens of the longest prompt that {@code method} feeds for {@code conversation}. */
    private int promptTokens(Conversation conversation, AmuletRequest r, AlignmentMethod method) {
        PromptPair p = prompts.renderFor(method, conversation, r.preference().orElse(null), r.promptStyle());
        return Math.max(p.base() == null ? 0 : p.base().length(), p.preference() == null ? 0 : p.preference().length());
    }

    /** Releases the model's native memory and the tokenizer, after the generate call in flight (if any). */
    @Override
    public void close() {
        generating.lock();
        try {
            lm.close();
        } finally {
            generating.unlock();
            prompts.close();
        }
    }
}
