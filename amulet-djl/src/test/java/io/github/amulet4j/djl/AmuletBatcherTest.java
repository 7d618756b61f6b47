package io.github.amulet4j.djl;


import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continuous batching on a random checkpoint: concurrent requests equal the same requests one by one. */
class AmuletBatcherTest {

    @TempDir
    static Path dir;

    static Path qwen;

    @BeforeAll
    static void write() throws IOException {
        qwen = dir.resolve("qwen2");
        RandomModelFolder.write(qwen, RandomModelFolder.Shape.TINY_QWEN2, 11, SafetensorsDtype.F32);
    }

    static AmuletRequest request(int i) {
        AlignmentMethod[] methods = {AlignmentMethod.AMULET, AlignmentMethod.BASE, AlignmentMethod.LA, AlignmentMethod.PREF, AlignmentMethod.AMULET, AlignmentMethod.BEAM};
        String[] preferences = {"concise", "creative", "Answer like a pirate.", "formal", null, "uplifting"};
        AlignmentMethod m = methods[i % methods.length];
        String preference = preferences[(i / 2) % preferences.length];
        if (preference == null && m != AlignmentMethod.BASE) {
            m = AlignmentMethod.BASE; // without a preference only plain decoding
        }
        GenerationConfig cfg = GenerationConfig.builder().method(m).maxNewTokens(3 + i % 6).numBeams(2).build();
        AmuletRequest.Builder b = AmuletRequest.builder("Question " + i + ": why is the sky " + "blue ".repeat(i % 4) + "?")
                .config(cfg);
        if (preference != null) {
            b.preference(preference);
        }
        return b.build();
    }

    /** 2048: every prompt prefilled whole; 7: long prompts prefilled in chunks of 7 tokens between steps. */
    @org.junit.jupiter.params.ParameterizedTest(name = "prefill tokens per step {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2048, 7})
    void sixteenConcurrentGreedyRequestsEqualTheSameRequestsOneByOne(int prefillTokensPerStep) throws Exception {
        concurrentEqualOneByOne(ModelOptions.of(qwen), prefillTokensPerStep);
    }

    /**
     * The same on the native Q8_0 kernels, where a decode step of 3 to 15 streams is multiplied in column pairs over
     * pieces of rows shared by the threads, and 16 or more in tiles: every stream's tokens must be its own alone.
     */
    @org.junit.jupiter.api.Test
    void onTheNativeQ8KernelsConcurrentGreedyRequestsEqualTheSameRequestsOneByOne() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(NativeKernels.available(), NativeKernels::unavailableReason);
        concurrentEqualOneByOne(ModelOptions.builder().model(qwen).runtime(r -> r.weights(RuntimeOptions.Weights.Q8_0)
                .kernels(Kernels.NATIVE).productThreads(2)).build(), 2048);
    }

    private static void concurrentEqualOneByOne(ModelOptions options, int prefillTokensPerStep) throws Exception {
        int n = 16;
        try (AmuletModel model = AmuletModel.load(options)) {
            List<GenerationResult> alone = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                alone.add(model.generate(request(i), TokenListener.NONE));
            }
            ExecutorService clients = Executors.newFixedThreadPool(n);
            List<StringBuilder> streamed = new ArrayList<>();
            List<Future<CompletableFuture<GenerationResult>>> submitted = new ArrayList<>();
            // 12 streams: fewer than all requests need, so some wait and join a running batch
            try (AmuletBatcher batcher = model.batcher(BatchingOptions.builder().maxBatchStreams(12).maxQueue(n)
                    .prefillTokensPerStep(prefillTokensPerStep).build())) {
                for (int i = 0; i < n; i++) {
                    int k = i;
                    StringBuilder sb = new StringBuilder();
                    streamed.add(sb);
                    submitted.add(clients.submit(() -> {
                        Thread.sleep(3L * k); // arrivals spread over the first steps
                        return batcher.submit(request(k), (r, t, d) -> sb.append(d));
                    }));
                }
                for (int i = 0; i < n; i++) {
                    GenerationResult got = submitted.get(i).get(60, TimeUnit.SECONDS).get(60, TimeUnit.SECONDS);
                    assertArrayEquals(alone.get(i).tokenIds(), got.tokenIds(), "request " + i + " " + request(i).config());
                    assertEquals(alone.get(i).finishReason(), got.finishReason(), "request " + i);
                    assertEquals(got.text(), streamed.get(i).toString(), "request " + i + " streamed");
                }
                int totalTokens = alone.stream().mapToInt(GenerationResult::generatedTokens).sum();
                assertTrue(batcher.steps() < totalTokens, "steps shared: " + batcher.steps() + " for " + totalTokens
                        + " tokens");
            } finally {
                clients.shutdownNow();
            }
        }
    }
}
