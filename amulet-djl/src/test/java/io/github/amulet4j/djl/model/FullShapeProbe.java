package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;

import java.util.List;

/**
 * Manual probe (not a test): builds a random Qwen2.5-0.5B-shaped model and decodes a few tokens with one
 * and two streams, printing milliseconds per step. Needs about 5 GB of heap plus native memory.
 */
public final class FullShapeProbe {

    private FullShapeProbe() {
    }

    public static void main(String[] args) {
        String shape = args.length > 0 ? args[0] : "qwen";
        // "overhead": the Qwen2.5-0.5B layer structure (24 layers, 14 heads, 2 KV heads, head_dim 64) with tiny
        // matrices, so that a step's time is the cost of its engine calls rather than of reading weights.
        ModelConfig c = switch (shape) {
            case "llama" -> ModelShapes.llama32_1b();
            case "overhead" -> new ModelConfig("Qwen2ForCausalLM", 64, 24, 14, 2, 64, 128, 1000, 32768, 1e-6,
                    1_000_000.0, null, true, true, false, "silu", null, List.of(3), "float32");
            default -> ModelShapes.qwen25_05b();
        };
        long t0 = System.nanoTime();
        InMemoryTensorStore store = RandomCheckpoint.create(c, 1);
        long t1 = System.nanoTime();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().checkpointName("random").build())) {
            long t2 = System.nanoTime();
            System.out.printf("random weights %.1f s, load %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            store = null;
            for (int streams = 1; streams <= 2; streams++) {
                int[] prompt = new int[32];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = i * 31 + 7;
                }
                List<int[]> prompts = streams == 1 ? List.of(prompt) : List.of(prompt, prompt.clone());
                long p0 = System.nanoTime();
                try (DecodingSession s = lm.prefill(prompts)) {
                    long p1 = System.nanoTime();
                    int steps = Integer.getInteger("probe.steps", 8);
                    int[] tok = new int[streams];
                    long d0 = 0;
                    long[] each = new long[steps - 2];
                    for (int i = 0; i < steps; i++) {
                        if (i == 2) {
                            d0 = System.nanoTime();
                        }
                        long e0 = System.nanoTime();
                        s.append(tok);
                        if (i >= 2) {
                            each[i - 2] = System.nanoTime() - e0;
                        }
                    }
                    long d1 = System.nanoTime();
                    java.util.Arrays.sort(each);
                    System.out.printf("streams=%d prefill %d tokens %.0f ms, decode %.0f ms/step (median %.0f, min %.0f)%n",
                            streams, prompt.length, (p1 - p0) / 1e6, (d1 - d0) / 1e6 / (steps - 2),
                            each[each.length / 2] / 1e6, each[0] / 1e6);
                }
            }
        }
    }
}
