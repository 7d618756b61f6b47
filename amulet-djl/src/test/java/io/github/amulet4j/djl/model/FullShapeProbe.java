package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.djl.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.djl.checkpoint.ModelConfig;

import java.util.List;

/**
 * Manual probe (not a test): builds a random Qwen2.5-0.5B-shaped model and decodes a few tokens with one
 * and two streams, printing milliseconds per step. Needs about 5 GB of heap plus native memory.
 */
public final class FullShapeProbe {

    private FullShapeProbe() {
    }

    public static void main(String[] args) {
        ModelConfig c = args.length > 0 && args[0].equals("llama") ? ModelShapes.llama32_1b() : ModelShapes.qwen25_05b();
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
                    int steps = 8;
                    int[] tok = new int[streams];
                    long d0 = 0;
                    for (int i = 0; i < steps; i++) {
                        if (i == 2) {
                            d0 = System.nanoTime();
                        }
                        s.append(tok);
                    }
                    long d1 = System.nanoTime();
                    System.out.printf("streams=%d prefill %d tokens %.0f ms, decode %.0f ms/step%n", streams,
                            prompt.length, (p1 - p0) / 1e6, (d1 - d0) / 1e6 / (steps - 2));
                }
            }
        }
    }
}
