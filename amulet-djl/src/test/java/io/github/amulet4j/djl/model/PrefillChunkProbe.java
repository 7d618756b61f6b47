package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.TensorStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Manual probe (not a test) behind the default of {@link RuntimeOptions#prefillChunk()}: for each chunk size, loads a
 * model folder and prefills one stream of N tokens and two streams (N and N - 16, as Amulet's), printing the prefill
 * tokens/s and the peak resident memory of each prefill (VmHWM, reset before it). Linux only.
 * Arguments: folder, N, comma-separated chunk sizes.
 */
public final class PrefillChunkProbe {

    private PrefillChunkProbe() {
    }

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        ModelConfig c = ModelConfigReader.readFolder(folder);
        SplittableRandom r = new SplittableRandom(42);
        int[] pref = r.ints(n, 0, c.vocabSize() - 300).toArray();
        int[] baseStream = r.ints(n - 16, 0, c.vocabSize() - 300).toArray();
        for (String chunkText : args[2].split(",")) {
            int chunk = Integer.parseInt(chunkText.trim());
            RuntimeOptions options = RuntimeOptions.builder().checkpointName(folder.toString()).prefillChunk(chunk).build();
            DjlCausalLm lm;
            try (TensorStore store = Checkpoints.open(folder)) {
                lm = DjlCausalLm.load(c, store, options);
            }
            try (lm) {
                System.out.printf("%s, %d prompt tokens, chunk %d, weights %.2f GiB, resident after load %.2f GiB%n",
                        folder, n, chunk, lm.weightBytes() / GIB, resident("VmRSS:") / GIB);
                for (List<int[]> prompts : List.of(List.of(pref), List.of(baseStream, pref))) {
                    System.gc();
                    Files.writeString(Path.of("/proc/self/clear_refs"), "5");
                    long before = resident("VmRSS:");
                    long t0 = System.nanoTime();
                    try (DecodingSession s = lm.prefill(prompts)) {
                        long t1 = System.nanoTime();
                        int tokens = prompts.stream().mapToInt(p -> p.length).sum();
                        System.out.printf("chunk %5d, %d stream(s): prefill %.1f s, %.1f tok/s, peak resident %.2f GiB "
                                        + "(before %.2f GiB, +%.2f)%n", chunk, prompts.size(), (t1 - t0) / 1e9,
                                tokens / ((t1 - t0) / 1e9), resident("VmHWM:") / GIB, before / GIB,
                                (resident("VmHWM:") - before) / GIB);
                    }
                }
            }
        }
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    private static long resident(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
            }
        }
        return -1;
    }
}
