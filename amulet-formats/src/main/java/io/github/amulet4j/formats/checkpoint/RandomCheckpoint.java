package io.github.amulet4j.formats.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random weights in the Hugging Face layout of a {@link ModelConfig}: every tensor that
 * {@link TensorLayout#expectedTensors(ModelConfig)} lists, values drawn from N(0, 0.02) (norm weights
 * from 1 + N(0, 0.02); Gemma's, which the model adds 1 to, from N(0, 0.02)). For tests and for benchmarks of full-size shapes; deterministic for a seed.
 *
 * <p>Filling is done in chunks of one million values, each with its own {@link SplittableRandom} derived
 * from the seed, the tensor and the chunk, in parallel: about half a billion values take seconds, and the
 * values do not depend on the number of threads.
 */
public final class RandomCheckpoint {

    /** Standard deviation of the random weights. */
    public static final float STD = 0.02f;

    private static final int CHUNK = 1 << 20;

    private RandomCheckpoint() {
    }

    /** A store with all tensors of {@code config} (GPT-2 names with the {@code transformer.} prefix). */
    public static InMemoryTensorStore create(ModelConfig config, long seed) {
        return create(config, seed, TensorLayout.GPT2_PREFIX);
    }

    /** As {@link #create(ModelConfig, long)} with the given GPT-2 name prefix ("" or "transformer."). */
    public static InMemoryTensorStore create(ModelConfig config, long seed, String gpt2Prefix) {
        return create(config, seed, gpt2Prefix, STD);
    }

    /**
     * As {@link #create(ModelConfig, long, String)} with standard deviation {@code std} (norm weights from
     * 1 + N(0, std)); tests use a larger spread so that every part of the model moves the logits.
     */
    public static InMemoryTensorStore create(ModelConfig config, long seed, String gpt2Prefix, float std) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("std must be >= 0, got " + std);
        }
        InMemoryTensorStore store = new InMemoryTensorStore();
        int index = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config, gpt2Prefix).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has " + n + " values, more than a Java array holds");
            }
            float mean = TensorLayout.isNormWeight(e.getKey()) ? normMean(config) : 0f;
            float[] values = normal((int) n, mean, std, mix(seed, index++));
            store.put(e.getKey(), e.getValue(), values);
        }
        return store;
    }

    /**
     * The same tensors as {@link #create(ModelConfig, long)}, as streamed entries that hold no values: each
     * is drawn chunk by chunk while a {@link io.github.amulet4j.formats.checkpoint.SafetensorsWriter} writes it,
     * so checkpoints of billions of parameters are written with a few megabytes of heap. Values are uniform
     * with standard deviation {@link #STD} (norm weights around 1), not the normal values of {@link #create}.
     */
    public static List<TensorEntry> entries(ModelConfig config, long seed) {
        float scale = (float) (STD * Math.sqrt(3.0));
        List<TensorEntry> out = new ArrayList<>();
        int index = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            String name = e.getKey();
            long tensorSeed = mix(seed, index++);
            if (TensorLayout.isNormWeight(name)) {
                out.add(new TensorEntry(name, e.getValue(), (first, buf, count) -> {
                    for (int i = 0; i < count; i++) {
                        buf[i] = normMean(config) + TensorEntry.randomValue(tensorSeed, first + i, scale);
                    }
                }));
            } else {
                out.add(TensorEntry.random(name, e.getValue(), tensorSeed, scale));
            }
        }
        return out;
    }

    /** Where norm weights are drawn around: 1, or 0 for Gemma, whose norms multiply by {@code 1 + w}. */
    private static float normMean(ModelConfig config) {
        return config.isGemma() ? 0f : 1f;
    }

    /** {@code n} values from N(mean, std), reproducible for a seed. */
    public static float[] normal(int n, float mean, float std, long seed) {
        float[] out = new float[n];
        int chunks = (n + CHUNK - 1) / CHUNK;
        IntStream range = IntStream.range(0, chunks);
        if (chunks > 1) {
            range = range.parallel();
        }
        range.forEach(c -> {
            SplittableRandom rnd = new SplittableRandom(mix(seed, c));
            int from = c * CHUNK;
            int to = Math.min(n, from + CHUNK);
            for (int i = from; i < to; i++) {
                out[i] = mean + std * (float) rnd.nextGaussian();
            }
        });
        return out;
    }

    /** Names that {@link #create} writes, for callers that want to stream them elsewhere. */
    public static List<String> names(ModelConfig config) {
        return new ArrayList<>(TensorLayout.expectedTensors(config).keySet());
    }

    private static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
