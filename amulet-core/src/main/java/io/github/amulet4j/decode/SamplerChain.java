package io.github.amulet4j.decode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A list of {@link LogitsProcessor}s followed by a {@link TokenPicker}, as in llama.cpp's sampler chain.
 * Stateless; each request brings its own random generator, so a seed gives the same tokens whatever
 * else is in the batch.
 */
public final class SamplerChain {

    private final List<LogitsProcessor> processors;
    private final TokenPicker picker;

    public SamplerChain(List<LogitsProcessor> processors, TokenPicker picker) {
        this.processors = List.copyOf(processors);
        this.picker = Objects.requireNonNull(picker, "picker");
    }

    /**
     * The chain for {@code config}: greedy is a bare argmax (temperature, top-k and top-p never change the
     * argmax, so they are skipped); sampling is temperature, top-k, top-p, min-p (Hugging Face's order), then
     * a random draw.
     */
    public static SamplerChain of(DecodingConfig config) {
        if (config.isGreedy()) {
            return new SamplerChain(List.of(), GreedyPicker.INSTANCE);
        }
        List<LogitsProcessor> ps = new ArrayList<>();
        if (config.temperature() != 1.0) {
            ps.add(new Temperature(config.temperature()));
        }
        if (config.topK() > 0) {
            ps.add(new TopK(config.topK()));
        }
        if (config.topP() < 1.0) {
            ps.add(new TopP(config.topP()));
        }
        if (config.minP() > 0) {
            ps.add(new MinP(config.minP()));
        }
        return new SamplerChain(ps, RandomPicker.INSTANCE);
    }

    public List<LogitsProcessor> processors() {
        return processors;
    }

    public TokenPicker picker() {
        return picker;
    }

    /** Runs the processors on the row in place, then picks a token. */
    public int sample(float[] logits, int off, int vocab, SplittableRandom rng) {
        for (LogitsProcessor p : processors) {
            p.process(logits, off, vocab);
        }
        return picker.pick(logits, off, vocab, rng);
    }

    /** A random generator for one request: seeded from {@code config} or fresh. */
    public static SplittableRandom randomFor(DecodingConfig config) {
        return config.seed().isPresent() ? new SplittableRandom(config.seed().getAsLong()) : new SplittableRandom();
    }

    @Override
    public String toString() {
        return "SamplerChain" + processors + " -> " + picker;
    }
}
