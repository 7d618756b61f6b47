package io.github.amulet4j.transformer;

import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorLayout;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A decoder-only causal LM (Llama, Mistral, Qwen2, Qwen3, GPT-2) as an Amulet {@link CausalLm}, run by a
 * {@link ForwardPass}: the pure-Java {@link JavaForward}, or an engine's pass (amulet-djl's PyTorch backend).
 *
 * <p>{@link #prefill(List)} runs one batched, left-padded forward pass and returns a session with one KV cache row
 * per prompt; each {@link DecodingSession#append(int[])} then costs one forward pass for all streams. With
 * {@link DecoderSettings#useKvCache()} off, every step recomputes the whole prefix instead.
 *
 * <p>Not thread-safe: one thread drives the model and its sessions at a time.
 */
public class DecoderLm implements CausalLm {

    private static final Logger LOG = LoggerFactory.getLogger(DecoderLm.class);

    private final ModelConfig config;
    private final DecoderSettings settings;
    private final ForwardPass forward;
    /** Null without a budget or a KV cache; see {@link #promptCache()}. */
    private final PromptCache promptCache;
    /** Whether the pass's caches copy rows (asked once, when the model is made). */
    private final boolean rowCopy;
    private volatile boolean closed;

    /** A model over {@code forward}, which it owns (closing the model closes the pass). */
    public DecoderLm(ModelConfig config, DecoderSettings settings, ForwardPass forward) {
        this.config = Objects.requireNonNull(config, "config");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.forward = Objects.requireNonNull(forward, "forward");
        if (settings.kvCachePrecision() == KvCachePrecision.F16) {
            String why = forward instanceof JavaForward java ? java.kvCachePrecision(KvCachePrecision.F16)
                    : "the " + forward.getClass().getSimpleName() + " pass keeps its own cache";
            if (why == null) {
                LOG.info("KV cache of {}: float16 keys and values", settings.checkpointName());
            } else {
                LOG.warn("KV cache of {}: float32, not the float16 asked for: {}", settings.checkpointName(), why);
            }
        }
        this.promptCache = settings.useKvCache() && settings.promptCacheBytes() > 0
                ? new PromptCache(settings.promptCacheBytes()) : null;
        boolean copies = false;
        if (promptCache != null) {
            try (KvCache probe = forward.newCache(1, 1)) {
                copies = probe.supportsRowCopy();
            }
            if (copies) {
                LOG.info("prompt cache for {}: up to {} MiB", settings.checkpointName(),
                        settings.promptCacheBytes() >> 20);
            } else {
                LOG.info("prompt cache off for {}: the {} pass's KV cache cannot copy rows",
                        settings.checkpointName(), forward.getClass().getSimpleName());
            }
        }
        this.rowCopy = copies;
    }

    /**
     * The prefix cache of this model's sessions, if it has one: every {@link #prefill} restores the longest cached
     * prefix of each prompt and runs only the rest, and streams leaving a session are kept in it. Empty with a budget
     * of 0, without a KV cache, or on a forward pass whose caches cannot copy rows (the engine pass).
     */
    public java.util.Optional<PromptCache> promptCache() {
        return usesPromptCache() ? java.util.Optional.of(promptCache) : java.util.Optional.empty();
    }

    /** Whether sessions use the prompt cache (the pass's caches must copy rows). */
    boolean usesPromptCache() {
        return promptCache != null && rowCopy;
    }

    @Override
    public int cachedPrefix(int[] prompt) {
        Objects.requireNonNull(prompt, "prompt");
        if (!usesPromptCache() || prompt.length <= PromptCache.LEFT_TO_RUN
                || prompt.length > io.github.amulet4j.formats.checkpoint.LongRope.switchLength(config)) {
            return 0;
        }
        PromptCache.Match m = promptCache.longest(prompt, prompt.length - PromptCache.LEFT_TO_RUN);
        return m == null ? 0 : m.length();
    }

    /** The configuration this model was built from. */
    public ModelConfig config() {
        return config;
    }

    /** How this model runs its sessions. */
    public DecoderSettings settings() {
        return settings;
    }

    /**
     * The precision the KV caches of this model's sessions hold: {@link DecoderSettings#kvCachePrecision()} where it
     * applies (F16 on the {@link JavaForward} pass with the native attention), else {@link KvCachePrecision#F32}.
     */
    public KvCachePrecision kvCachePrecision() {
        return forward instanceof JavaForward java ? java.kvCachePrecision() : KvCachePrecision.F32;
    }

    /** Floats of one position's logits ({@link ForwardPass#logitsWidth()}): the vocabulary, or a classifier's labels. */
    @Override
    public int vocabSize() {
        return forward.logitsWidth();
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
        if (usesPromptCache()) {
            return DecoderSession.withPromptCache(this, prompts, promptCache);
        }
        return new DecoderSession(this, prompts);
    }

    /**
     * Logits of every position of one prompt, {@code [prompt.length][vocab]}, from one forward pass (in chunks of
     * {@link DecoderSettings#prefillChunk()} tokens) without a session (for scoring and tests).
     */
    public float[][] logitsAllPositions(int[] prompt) {
        ensureOpen();
        checkPrompt(prompt, "prompt");
        float[][] out = new float[prompt.length][vocabSize()];
        try (KvCache cache = newCache(1, prompt.length)) {
            forward.runAll(new int[][] {prompt}, new int[] {0}, cache, settings.prefillChunk(), out);
        }
        return out;
    }

    /** The pass that runs this model (for diagnostics and tests). */
    public ForwardPass forward() {
        return forward;
    }

    /** A cache of the pass's kind (the caller closes it). */
    public KvCache newCache(int batch, int capacity) {
        return forward.newCache(batch, capacity);
    }

    private void checkPrompt(int[] prompt, String what) {
        Objects.requireNonNull(prompt, what);
        if (prompt.length == 0) {
            throw new IllegalArgumentException(what + " is empty");
        }
        if (prompt.length > config.maxPositions()) {
            throw new IllegalArgumentException(what + " has " + prompt.length + " tokens, more than the "
                    + config.maxPositions() + " positions of " + settings.checkpointName());
        }
        for (int id : prompt) {
            checkToken(id, what);
        }
    }

    /** As {@link #checkToken}, the message built only on failure (every decode step checks its tokens). */
    void checkStreamToken(int id, int stream) {
        if (id < 0 || id >= config.vocabSize()) {
            checkToken(id, "token for stream " + stream);
        }
    }

    void checkToken(int id, String what) {
        if (id < 0 || id >= config.vocabSize()) {
            throw new IllegalArgumentException(what + " holds token id " + id + ", outside [0, " + config.vocabSize()
                    + ") of " + settings.checkpointName());
        }
    }

    boolean isClosed() {
        return closed;
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("model " + settings.checkpointName() + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            forward.close();
        }
    }

    /**
     * Total wall time spent copying logits from the engine into the Java arrays that {@link DecodingSession#logits()}
     * returns, over every forward pass of this model so far (a diagnostic for benchmarks).
     */
    public long logitsCopyNanos() {
        return forward.copyNanos();
    }

    /** Bytes the model's weights take, on the device, on the Java heap and off it together (for memory reports). */
    public long weightBytes() {
        WeightFootprint f = forward.footprint();
        return f.deviceBytes() + f.heapBytes() + f.offHeapBytes();
    }

    /**
     * Bytes of weights one decode step reads: every linear weight and the output head as held (in their Java format
     * or the engine's dtype), plus the norms, biases and positions (embedding tables that are only looked up are not
     * counted).
     */
    public long weightBytesPerToken() {
        long other = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
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
        WeightFootprint f = forward.footprint();
        return f.linearBytes() + other * f.vectorElementBytes();
    }

    /** The formats the Java kernels hold the linear weights in ({@code F32}, {@code Q4_0+F16}, ...); empty on an engine. */
    public String weightFormats() {
        return forward.footprint().formats();
    }

    /**
     * Whether the linear layers run in this process on the Java or native kernels (weights on the Java heap or off it
     * in this process), not on an engine.
     */
    public boolean linearLayersOnHeap() {
        WeightFootprint f = forward.footprint();
        return f.heapBytes() + f.offHeapBytes() > 0;
    }
}
