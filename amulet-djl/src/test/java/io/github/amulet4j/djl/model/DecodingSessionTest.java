package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KV-cached decoding against full recomputation, padded batches, select, and flat native memory. */
class DecodingSessionTest {

    static final float TOL = 1e-4f;

    static List<ModelConfig> configs() {
        return ModelShapes.tinyAll();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void incrementalDecodingEqualsRecomputationAndNoCacheMode(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 21);
        int[] all = TestModels.tokens(c, 20, 8);
        int promptLen = 5;
        // a small initial capacity so that the cache grows (doubles) during the run
        RuntimeOptions cached = RuntimeOptions.builder().initialCacheCapacity(4).build();
        RuntimeOptions uncached = RuntimeOptions.builder().useKvCache(false).build();
        float[][] full = new NaiveReference(c, store).logits(all);
        try (DjlCausalLm a = DjlCausalLm.load(c, store, cached);
             DjlCausalLm b = DjlCausalLm.load(c, store, uncached);
             DecodingSession sa = a.prefill(List.of(Arrays.copyOf(all, promptLen)));
             DecodingSession sb = b.prefill(List.of(Arrays.copyOf(all, promptLen)))) {
            float[][] recomputed = a.logitsAllPositions(all);
            for (int t = promptLen - 1; t < all.length; t++) {
                if (t >= promptLen) {
                    sa.append(new int[] {all[t]});
                    sb.append(new int[] {all[t]});
                }
                float[] la = sa.logits().row(0);
                float[] lb = sb.logits().row(0);
                assertTrue(TestModels.maxAbsDiff(la, recomputed[t]) <= TOL, "cached vs recomputed at " + t);
                assertTrue(TestModels.maxAbsDiff(lb, recomputed[t]) <= TOL, "no-cache vs recomputed at " + t);
                assertTrue(TestModels.maxAbsDiff(la, full[t]) <= TOL, "cached vs reference at " + t);
                assertEquals(t + 1, sa.length(0));
                assertEquals(t + 1, sb.length(0));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void requestInLeftPaddedBatchEqualsRequestAlone(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 31);
        List<int[]> prompts = List.of(TestModels.tokens(c, 7, 1), TestModels.tokens(c, 2, 2),
                TestModels.tokens(c, 5, 3), TestModels.tokens(c, 1, 4));
        int steps = 6;
        int[][] next = new int[steps][];
        for (int s = 0; s < steps; s++) {
            next[s] = TestModels.tokens(c, prompts.size(), 100 + s);
        }
        for (boolean kv : new boolean[] {true, false}) {
            RuntimeOptions opts = RuntimeOptions.builder().useKvCache(kv).initialCacheCapacity(8).build();
            try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts);
                 DecodingSession batch = lm.prefill(prompts)) {
                List<DecodingSession> alone = new ArrayList<>();
                for (int[] p : prompts) {
                    alone.add(lm.prefill(List.of(p)));
                }
                for (int s = 0; s <= steps; s++) {
                    if (s > 0) {
                        batch.append(next[s - 1]);
                        for (int i = 0; i < prompts.size(); i++) {
                            alone.get(i).append(new int[] {next[s - 1][i]});
                        }
                    }
                    Logits lb = batch.logits();
                    for (int i = 0; i < prompts.size(); i++) {
                        float d = TestModels.maxAbsDiff(lb.data(), lb.offset(i), alone.get(i).logits().data(), 0,
                                c.vocabSize());
                        assertTrue(d <= TOL, "kv=" + kv + " stream " + i + " step " + s + ": " + d);
                        assertEquals(prompts.get(i).length + s, batch.length(i));
                    }
                }
                alone.forEach(DecodingSession::close);
            }
        }
    }

    /** Chunked prefill: a prompt fed as several chunks gives the logits of the whole prompt. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void extendingByChunksEqualsOnePrefill(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 43);
        int[] a = TestModels.tokens(c, 11, 5);
        int[] b = TestModels.tokens(c, 11, 6);
        for (boolean kv : new boolean[] {true, false}) {
            RuntimeOptions opts = RuntimeOptions.builder().useKvCache(kv).initialCacheCapacity(4).build();
            try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts);
                 DecodingSession s = lm.prefill(List.of(Arrays.copyOf(a, 3), Arrays.copyOf(b, 3)))) {
                s.extend(new int[][] {Arrays.copyOfRange(a, 3, 7), Arrays.copyOfRange(b, 3, 7)});
                s.extend(new int[][] {Arrays.copyOfRange(a, 7, 8), Arrays.copyOfRange(b, 7, 8)});
                s.extend(new int[][] {Arrays.copyOfRange(a, 8, 11), Arrays.copyOfRange(b, 8, 11)});
                float[][] wantA = lm.logitsAllPositions(a);
                float[][] wantB = lm.logitsAllPositions(b);
                assertTrue(TestModels.maxAbsDiff(s.logits().row(0), wantA[10]) <= TOL, "kv=" + kv + " stream 0");
                assertTrue(TestModels.maxAbsDiff(s.logits().row(1), wantB[10]) <= TOL, "kv=" + kv + " stream 1");
                assertEquals(11, s.length(0));
                s.append(new int[] {7, 8});
                int[] a2 = concat(a, 7);
                assertTrue(TestModels.maxAbsDiff(s.logits().row(0), lm.logitsAllPositions(a2)[11]) <= TOL);
                assertThrows(IllegalArgumentException.class, () -> s.extend(new int[][] {{1, 2}, {3}}));
            }
        }
    }

    /** Continuous batching: newcomers prefilled alone join a running session; every stream equals itself alone. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void absorbedStreamsEqualStreamsAlone(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 37);
        int[] a0 = TestModels.tokens(c, 3, 1);
        int[] a1 = TestModels.tokens(c, 5, 2);
        int[] b0 = TestModels.tokens(c, 9, 3); // longer than the running streams: they get more padding
        int[] d0 = TestModels.tokens(c, 2, 4); // shorter: the newcomer is padded
        for (boolean kv : new boolean[] {true, false}) {
            RuntimeOptions opts = RuntimeOptions.builder().useKvCache(kv).initialCacheCapacity(4).build();
            try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts);
                 DecodingSession s = lm.prefill(List.of(a0, a1))) {
                s.append(new int[] {10, 11});
                s.absorb(lm.prefill(List.of(b0)));
                assertEquals(3, s.streams());
                s.append(new int[] {20, 21, 22});
                s.select(new int[] {1, 2}); // a0 leaves
                s.absorb(lm.prefill(List.of(d0)));
                s.append(new int[] {30, 31, 32});
                int[][] histories = {concat(a1, 11, 21, 30), concat(b0, 22, 31), concat(d0, 32)};
                for (int j = 0; j < histories.length; j++) {
                    float[][] want = lm.logitsAllPositions(histories[j]);
                    float d = TestModels.maxAbsDiff(s.logits().row(j), want[histories[j].length - 1]);
                    assertTrue(d <= TOL, "kv=" + kv + " stream " + j + ": " + d);
                    assertEquals(histories[j].length, s.length(j));
                }
                s.select(new int[0]);
                s.absorb(lm.prefill(List.of(a0)));
                float[][] want = lm.logitsAllPositions(a0);
                assertTrue(TestModels.maxAbsDiff(s.logits().row(0), want[a0.length - 1]) <= TOL, "into an empty session");
                assertThrows(IllegalArgumentException.class, () -> s.absorb(s));
            }
        }
    }

    @Test
    void selectCopiesReordersAndDropsStreams() {
        ModelConfig c = ModelShapes.tinyQwen2();
        InMemoryTensorStore store = TestModels.store(c, 41);
        int[] p0 = TestModels.tokens(c, 3, 1);
        int[] p1 = TestModels.tokens(c, 6, 2);
        int[] p2 = TestModels.tokens(c, 4, 3);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store);
             DecodingSession s = lm.prefill(List.of(p0, p1, p2))) {
            s.append(new int[] {10, 11, 12});
            float[] before2 = s.logits().row(2);
            // drop stream 1 (the longest: padding shifts), copy stream 0 twice, reorder
            s.select(new int[] {2, 0, 0});
            assertEquals(3, s.streams());
            assertTrue(TestModels.maxAbsDiff(before2, s.logits().row(0)) == 0f);
            assertEquals(p2.length + 1, s.length(0));
            assertEquals(p0.length + 1, s.length(1));
            s.append(new int[] {20, 21, 22});
            s.append(new int[] {30, 31, 32});
            int[][] histories = {
                concat(p2, 12, 20, 30), concat(p0, 10, 21, 31), concat(p0, 10, 22, 32)};
            for (int j = 0; j < 3; j++) {
                float[][] want = lm.logitsAllPositions(histories[j]);
                float d = TestModels.maxAbsDiff(s.logits().row(j), want[histories[j].length - 1]);
                assertTrue(d <= TOL, "stream " + j + ": " + d);
                assertEquals(histories[j].length, s.length(j));
            }
            s.select(new int[] {1});
            s.append(new int[] {40});
            int[] h = concat(histories[1], 40);
            float[][] want = lm.logitsAllPositions(h);
            assertTrue(TestModels.maxAbsDiff(s.logits().row(0), want[h.length - 1]) <= TOL);
            assertThrows(IllegalArgumentException.class, () -> s.select(new int[] {1}));
            s.select(new int[0]);
            assertEquals(0, s.streams());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void splitProductsOnEveryKernelEqualOneThreadAndTheReference(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 23);
        int[] prompt = TestModels.tokens(c, 9, 1);
        int[] appended = {5 % c.vocabSize(), 17 % c.vocabSize(), 3, 11 % c.vocabSize(), 29 % c.vocabSize()};
        // one stream: every decode product has a single column, the case that is split over threads
        float[][] want = decode(c, store, 1, prompt, appended, RuntimeOptions.LinearKernel.ENGINE);
        int[] all = java.util.Arrays.copyOf(prompt, prompt.length + appended.length);
        System.arraycopy(appended, 0, all, prompt.length, appended.length);
        float[][] reference = new NaiveReference(c, store).logits(all);
        for (int threads : new int[] {2, 3}) {
            for (RuntimeOptions.LinearKernel kernel : RuntimeOptions.LinearKernel.values()) {
                float[][] got = decode(c, store, threads, prompt, appended, kernel);
                float tol = kernel == RuntimeOptions.LinearKernel.ENGINE ? 1e-5f : ReferenceLogitsTest.TOL;
                for (int step = 0; step < want.length; step++) {
                    float d = TestModels.maxAbsDiff(want[step], got[step]);
                    assertTrue(d <= tol, c.architecture() + ", " + kernel + ", " + threads + " threads, step " + step
                            + ": " + d);
                    float r = TestModels.maxAbsDiff(reference[prompt.length - 1 + step], got[step]);
                    assertTrue(r <= ReferenceLogitsTest.TOL, c.architecture() + " vs reference, step " + step + ": " + r);
                }
            }
        }
    }

    private static float[] flat(Logits l) {
        return java.util.Arrays.copyOf(l.data(), l.rows() * l.vocab());
    }

    /** Logits of a one-stream prefill and of each appended token, one array per step. */
    private static float[][] decode(ModelConfig c, InMemoryTensorStore store, int threads, int[] prompt, int[] appended,
                                    RuntimeOptions.LinearKernel kernel) {
        float[][] out = new float[appended.length + 1][];
        RuntimeOptions opts = RuntimeOptions.builder().productThreads(threads).linearKernel(kernel).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts); DecodingSession s = lm.prefill(List.of(prompt))) {
            out[0] = flat(s.logits());
            for (int i = 0; i < appended.length; i++) {
                s.append(new int[] {appended[i]});
                out[i + 1] = flat(s.logits());
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void javaKernelsEqualPyTorchForPrefillAndOneAndTwoStreams(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 29);
        RuntimeOptions java = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).build();
        RuntimeOptions engine = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
        for (List<int[]> prompts : List.of(List.of(TestModels.tokens(c, 7, 1)),
                List.of(TestModels.tokens(c, 9, 2), TestModels.tokens(c, 4, 3)))) {
            float[][] want = steps(c, store, engine, prompts);
            float[][] got = steps(c, store, java, prompts);
            for (int step = 0; step < want.length; step++) {
                float d = TestModels.maxAbsDiff(want[step], got[step]);
                assertTrue(d <= ReferenceLogitsTest.TOL, c.architecture() + ", " + prompts.size() + " stream(s), step "
                        + step + ": " + d);
            }
        }
        try (DjlCausalLm a = DjlCausalLm.load(c, store, java); DjlCausalLm b = DjlCausalLm.load(c, store, engine)) {
            assertTrue(a.linearLayersOnHeap());
            assertFalse(b.linearLayersOnHeap());
            assertEquals(b.weightBytes(), a.weightBytes(), "the same weights, on the heap or on the engine");
        }
    }

    /** Logits of a prefill and four cached steps (every stream fed the same token), one array per step. */
    private static float[][] steps(ModelConfig c, InMemoryTensorStore store, RuntimeOptions opts, List<int[]> prompts) {
        float[][] out = new float[5][];
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts); DecodingSession s = lm.prefill(prompts)) {
            out[0] = flat(s.logits());
            for (int i = 1; i < out.length; i++) {
                int[] next = new int[prompts.size()];
                java.util.Arrays.fill(next, (13 * i) % c.vocabSize());
                s.append(next);
                out[i] = flat(s.logits());
            }
        }
        return out;
    }

    @Test
    void splitProductsLeaveNoArraysBehind() {
        ModelConfig c = TestModels.withMaxPositions(ModelShapes.tinyQwen2(), 512);
        InMemoryTensorStore store = TestModels.store(c, 52);
        RuntimeOptions opts = RuntimeOptions.builder().initialCacheCapacity(512).productThreads(3)
                .linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts);
             DecodingSession s = lm.prefill(List.of(TestModels.tokens(c, 4, 1)))) {
            int afterPrefill = liveArrays(lm);
            for (int i = 0; i < 300; i++) {
                s.append(new int[] {(3 * i) % c.vocabSize()});
            }
            assertEquals(afterPrefill, liveArrays(lm), "live arrays after 300 one-stream steps");
        }
    }

    /** The engine's pass (the Java pass holds no engine arrays: see JavaForwardTest for its memory). */
    @Test
    void nativeMemoryStaysFlatOverOneThousandSteps() {
        ModelConfig c = TestModels.withMaxPositions(ModelShapes.tinyLlama(), 2048);
        InMemoryTensorStore store = TestModels.store(c, 51);
        RuntimeOptions opts = RuntimeOptions.builder().initialCacheCapacity(2048).productThreads(3)
                .linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
            int weights = liveArrays(lm);
            try (DecodingSession s = lm.prefill(List.of(TestModels.tokens(c, 3, 1), TestModels.tokens(c, 5, 2)))) {
                int afterPrefill = liveArrays(lm);
                assertTrue(afterPrefill > weights, "the session's cache lives under the model's manager");
                int[] tok = new int[2];
                for (int i = 0; i < 1000; i++) {
                    tok[0] = i % c.vocabSize();
                    tok[1] = (7 * i) % c.vocabSize();
                    s.append(tok);
                    if (i % 250 == 0 || i == 999) {
                        assertEquals(afterPrefill, liveArrays(lm), "live arrays after step " + i);
                    }
                }
                assertEquals(1005, s.length(1));
                for (float v : s.logits().data()) {
                    assertTrue(Float.isFinite(v));
                }
            }
            assertEquals(weights, liveArrays(lm), "closing the session frees its cache");
        }
    }

    @Test
    void cacheGrowthAndSelectDoNotLeak() {
        ModelConfig c = ModelShapes.tinyMistral();
        InMemoryTensorStore store = TestModels.store(c, 52);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().initialCacheCapacity(2).build())) {
            try (DecodingSession s = lm.prefill(List.of(TestModels.tokens(c, 3, 1), TestModels.tokens(c, 2, 2)))) {
                int start = liveArrays(lm);
                for (int i = 0; i < 40; i++) {
                    s.append(new int[] {i, i + 1});
                    s.select(new int[] {1, 0});
                }
                assertEquals(start, liveArrays(lm));
            }
        }
    }

    @Test
    void promptAndGenerationBeyondMaxPositionsAreRejected() {
        ModelConfig c = TestModels.withMaxPositions(ModelShapes.tinyLlama(), 6);
        try (DjlCausalLm lm = DjlCausalLm.load(c, TestModels.store(c, 1),
                RuntimeOptions.builder().checkpointName("tiny-llama").build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> lm.prefill(List.of(new int[] {1, 2}, new int[7])));
            assertTrue(e.getMessage().contains("prompt 1") && e.getMessage().contains("7 tokens")
                    && e.getMessage().contains("6 positions") && e.getMessage().contains("tiny-llama"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> lm.prefill(List.of(new int[0])));
            assertThrows(IllegalArgumentException.class, () -> lm.prefill(List.of(new int[] {c.vocabSize()})));
            try (DecodingSession s = lm.prefill(List.of(new int[] {1, 2, 3, 4, 5}))) {
                s.append(new int[] {6});
                IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> s.append(new int[] {7}));
                assertTrue(e2.getMessage().contains("6 positions"), e2.getMessage());
                assertThrows(IllegalArgumentException.class, () -> s.append(new int[] {1, 2}));
            }
        }
    }

    private static int[] concat(int[] a, int... b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Engine arrays under the model's manager (none on the Java pass, which starts no engine). */
    private static int liveArrays(DjlCausalLm lm) {
        return lm.manager() == null ? 0 : lm.manager().getManagedArrays().size();
    }
}
