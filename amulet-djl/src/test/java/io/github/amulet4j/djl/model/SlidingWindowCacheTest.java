package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.JavaForward;
import io.github.amulet4j.transformer.JavaForwardSeams;
import io.github.amulet4j.transformer.KvCache;
import io.github.amulet4j.transformer.weights.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The KV cache's sliding-window layers hold their window (and a margin) only: over prompts far longer than the window
 * the logits equal those of a cache that holds every slot, in every chunking and in decode steps, for both rows of a
 * padded batch, while the cache stays small; sessions through absorb and select equal the engine's pass; and the
 * prompt cache restores a prefix only where the sliding layers still hold the window before it, giving the logits
 * of a fresh prefill either way.
 */
class SlidingWindowCacheTest {

    static final float TOL = 1e-4f;

    /** Gemma 2 (window 5, every other layer), Gemma 3 (window 6, three of four layers), Mistral (window 5, all). */
    static List<ModelConfig> configs() {
        return List.of(ModelShapes.tinyGemma2(), ModelShapes.tinyGemma3(),
                ModelShapes.tinyMistral().withSlidingWindow(5));
    }

    private static RuntimeOptions options(int chunk, int promptCacheMib) {
        return RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).kernels(Kernels.JAVA)
                .prefillChunk(chunk).initialCacheCapacity(4).promptCacheMib(promptCacheMib).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void boundedCacheGivesTheLogitsOfAnUnboundedOneAndStaysSmall(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 81);
        // rows of 240 and 150 tokens, the second padded by 90 slots (more than the window)
        int[] lengths = {240, 150};
        int width = 240;
        int[][] batch = new int[2][width];
        int[] pad = new int[2];
        for (int r = 0; r < 2; r++) {
            pad[r] = width - lengths[r];
            System.arraycopy(TestModels.tokens(c, lengths[r], 30 + r), 0, batch[r], pad[r], lengths[r]);
        }
        for (int chunk : new int[] {width, 7, 1}) {
            try (DjlCausalLm lm = DjlCausalLm.load(c, store, options(chunk, 0))) {
                JavaForward pass = (JavaForward) lm.forward();
                float[][] got = new float[2 * width][lm.vocabSize()];
                float[][] want = new float[2 * width][lm.vocabSize()];
                long boundedBytes;
                long unboundedBytes;
                try (KvCache bounded = lm.newCache(2, 4);
                     KvCache unbounded = JavaForwardSeams.unboundedCache(pass, 2, 4)) {
                    pass.runAll(batch, pad, bounded, chunk, got);
                    pass.runAll(batch, pad, unbounded, chunk, want);
                    // then a decode step
                    float[] gotStep = new float[2 * lm.vocabSize()];
                    float[] wantStep = new float[2 * lm.vocabSize()];
                    int[][] next = {{3}, {5}};
                    pass.run(next, pad, bounded, 1, gotStep);
                    pass.run(next, pad, unbounded, 1, wantStep);
                    float d = TestModels.maxAbsDiff(wantStep, gotStep);
                    assertTrue(d <= TOL, c + " chunk " + chunk + " decode step: " + d);
                    boundedBytes = bounded.bytes();
                    unboundedBytes = unbounded.bytes();
                }
                for (int i = 0; i < want.length; i++) {
                    if (i % width < pad[i / width]) {
                        continue; // padding positions attend to whatever a layer holds: no logits anyone reads
                    }
                    float d = TestModels.maxAbsDiff(want[i], got[i]);
                    assertTrue(d <= TOL, c + " chunk " + chunk + " row " + (i / width) + " position " + (i % width)
                            + ": " + d);
                }
                // the sliding layers hold at most their kept slots, a chunk of 7, a tile and the growth step each
                // (a prompt prefilled in one chunk held it whole until the decode step gave the room back)
                int layers = c.numLayers();
                long perSlot = 2L * 2 * c.numKvHeads() * c.headDim() * Float.BYTES; // two rows, keys and values
                long bound = 0;
                for (int l = 0; l < layers; l++) {
                    Integer w = c.slidingWindow(l);
                    long slots = w == null ? 2L * width + 2 * KvCache.MIN_GROWTH
                            : 2L * (JavaForwardSeams.keepBehind(w) + 7 + 16 + KvCache.MIN_GROWTH);
                    bound += slots;
                }
                assertTrue(boundedBytes <= bound * perSlot, c + " chunk " + chunk + ": " + boundedBytes + " > "
                        + bound * perSlot);
                assertTrue(boundedBytes < unboundedBytes, boundedBytes + " vs " + unboundedBytes);
            }
        }
    }

    /** Sessions with prompts far longer than the window through absorb and select, against the engine's pass. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sessionsThroughAbsorbAndSelectEqualTheEngine(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 82);
        RuntimeOptions engineOptions = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.ENGINE)
                .prefillChunk(7).initialCacheCapacity(4).build();
        try (DjlCausalLm java = DjlCausalLm.load(c, store, options(7, 0));
             DjlCausalLm engine = DjlCausalLm.load(c, store, engineOptions)) {
            DecodingSession[] s = new DecodingSession[2];
            DjlCausalLm[] models = {java, engine};
            try {
                for (int m = 0; m < 2; m++) {
                    s[m] = models[m].prefill(List.of(TestModels.tokens(c, 100, 1), TestModels.tokens(c, 83, 2)));
                }
                JavaForwardTest.compare(s, "prefill");
                for (int k = 0; k < 3; k++) {
                    JavaForwardTest.step(s, new int[] {4 + k, 5 + k}, "decode " + k);
                }
                for (int m = 0; m < 2; m++) {
                    // longer than the running rows: they are padded
                    s[m].absorb(models[m].prefill(List.of(TestModels.tokens(c, 130, 3))));
                }
                JavaForwardTest.compare(s, "absorb of a longer one");
                JavaForwardTest.step(s, new int[] {1, 2, 3}, "after absorb");
                for (int m = 0; m < 2; m++) {
                    s[m].absorb(models[m].prefill(List.of(TestModels.tokens(c, 20, 4))));
                }
                JavaForwardTest.step(s, new int[] {1, 2, 3, 4}, "after absorb of a shorter one");
                for (int m = 0; m < 2; m++) {
                    s[m].select(new int[] {1, 1, 0, 3});
                }
                JavaForwardTest.step(s, new int[] {7, 8, 9, 5}, "after select");
                for (int m = 0; m < 2; m++) {
                    s[m].select(new int[] {3, 0}); // the shortest row's padding is common to both: it goes
                }
                for (int k = 0; k < 10; k++) {
                    JavaForwardTest.step(s, new int[] {10 + k, 11 + k}, "after shift, step " + k);
                }
            } finally {
                for (DecodingSession x : s) {
                    if (x != null) {
                        x.close();
                    }
                }
            }
        }
    }

    /**
     * A history of 94 tokens (90 prefilled, 4 decoded), its sliding layers holding only its end: the next turn reuses
     * the 90 prefilled ones (an entry holds prefilled positions only: the decoded answer is prefilled again), a turn
     * whose last two tokens were re-rendered reuses all but those from the next turn's entry (within the kept
     * margin), and a prompt
     * sharing only the first 20 tokens reuses nothing (those layers dropped the window before token 20); every
     * prompt's logits and the steps after equal a fresh prefill's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void promptCacheHitWithAHistoryLongerThanTheWindowEqualsAFreshPrefill(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 83);
        int[] turn1 = TestModels.tokens(c, 90, 1);
        int[] answer = {5, 9, 11, 4};
        int[] history = PromptCacheTest.concat(turn1, answer);
        int[] nextTurn = PromptCacheTest.concat(history, TestModels.tokens(c, 9, 2));
        int[] rerendered = PromptCacheTest.concat(Arrays.copyOf(history, history.length - 2), new int[] {7, 7},
                TestModels.tokens(c, 5, 3));
        int[] sharesTwenty = PromptCacheTest.concat(Arrays.copyOf(turn1, 20), TestModels.tokens(c, 8, 4));
        int[][] prompts = {nextTurn, rerendered, sharesTwenty};
        int[] reused = {turn1.length, history.length - 2, 0};
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, options(7, 16));
             DjlCausalLm ref = DjlCausalLm.load(c, store, options(7, 0))) {
            try (DecodingSession s = lm.prefill(List.of(turn1))) {
                for (int t : answer) {
                    s.append(new int[] {t});
                }
            }
            for (int k = 0; k < prompts.length; k++) {
                List<int[]> p = List.of(prompts[k]);
                try (DecodingSession hit = lm.prefill(p); DecodingSession want = ref.prefill(p)) {
                    assertEquals(reused[k], hit.reusedPromptTokens(0), "prompt " + k);
                    DecodingSession[] s = {hit, want};
                    JavaForwardTest.compare(s, c + " prompt " + k);
                    for (int step = 0; step < 3; step++) {
                        JavaForwardTest.step(s, new int[] {3 + step}, c + " prompt " + k + " step " + step);
                    }
                }
            }
        }
    }
}
