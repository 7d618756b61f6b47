package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.DecoderLm;
import io.github.amulet4j.transformer.DecoderSettings;
import io.github.amulet4j.transformer.PromptCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prompt cache ({@link PromptCache} behind every {@link DecoderLm#prefill}): after a hit, the logits of the
 * prefill and of the steps after it equal those of a fresh prefill without a cache (an independent computation), for
 * every architecture, a sliding window shorter than the history, and every Java weight format; reuse stops exactly at
 * the first differing token; streams with different cached prefixes in one batch come back in order; a tiny budget
 * evicts and keeps the answers.
 */
class PromptCacheTest {

    static final float TOL = 1e-4f;

    static List<ModelConfig> configs() {
        List<ModelConfig> all = new ArrayList<>(ModelShapes.tinyAll());
        all.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        return all;
    }

    /*
     * The Java kernels for every product: the native Q8_0/Q4_0 kernels decode with 8-bit activations, so the keys and
     * values of an answer's tokens differ from a fresh prefill's (Java kernels) by that quantization, not by the cache;
     * the cache's own exactness is what these tests check.
     */
    static RuntimeOptions cached(RuntimeOptions.Weights w) {
        return RuntimeOptions.builder().weights(w).kernels(Kernels.JAVA).promptCacheMib(16).prefillChunk(7)
                .initialCacheCapacity(4).build();
    }

    static RuntimeOptions uncached(RuntimeOptions.Weights w) {
        return RuntimeOptions.builder().weights(w).kernels(Kernels.JAVA).promptCacheMib(0).prefillChunk(7)
                .initialCacheCapacity(4).build();
    }

    /** Concatenation of the arrays. */
    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void nextTurnAfterAHitEqualsAFreshPrefill(ModelConfig c) {
        conversation(c, RuntimeOptions.Weights.AUTO);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = RuntimeOptions.Weights.class, names = {"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    void nextTurnAfterAHitEqualsAFreshPrefillInEveryWeightFormat(RuntimeOptions.Weights w) {
        conversation(ModelShapes.tinyQwen2(), w);
    }

    /**
     * Turn 1: a prompt and four appended tokens, closed into the cache. Turn 2: that history plus new tokens (turn
     * 1's prompt is reused, its four decoded tokens run again) next to a stream that shares only the first tokens of
     * turn 1, and one that shares nothing:
     * each row's logits, and those of three steps after, equal a fresh prefill of the same prompts.
     */
    private static void conversation(ModelConfig c, RuntimeOptions.Weights w) {
        InMemoryTensorStore store = TestModels.store(c, 71);
        int[] turn1 = TestModels.tokens(c, 17, 1);
        int[] answer = {5, 9, 11, 4};
        int[] turn2 = concat(turn1, answer, TestModels.tokens(c, 9, 2));
        int[] sharesSix = concat(Arrays.copyOf(turn1, 6), TestModels.tokens(c, 3, 3));
        int[] fresh = TestModels.tokens(c, 5, 4);
        List<int[]> prompts = List.of(turn2, sharesSix, fresh);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, cached(w));
             DjlCausalLm ref = DjlCausalLm.load(c, store, uncached(w))) {
            assertTrue(lm.promptCache().isPresent());
            assertFalse(ref.promptCache().isPresent());
            try (DecodingSession s = lm.prefill(List.of(turn1))) {
                for (int t : answer) {
                    s.append(new int[] {t});
                }
            }
            try (DecodingSession hit = lm.prefill(prompts); DecodingSession want = ref.prefill(prompts)) {
                // the cache keeps the prompt's positions, not the answer's (decode steps: another summation
                // order), so the answer's four tokens run again with the new ones
                assertEquals(turn1.length, hit.reusedPromptTokens(0));
                assertEquals(6, hit.reusedPromptTokens(1));
                assertEquals(0, hit.reusedPromptTokens(2));
                assertEquals(0, want.reusedPromptTokens(0));
                sameLogits(want, hit, c + " " + w + " prefill");
                for (int step = 0; step < 3; step++) {
                    int[] next = {7 + step, 3 + step, 12 + step};
                    hit.append(next);
                    want.append(next);
                    sameLogits(want, hit, c + " " + w + " step " + step);
                }
            }
            PromptCache.Stats stats = lm.promptCache().orElseThrow().stats();
            assertEquals(4, stats.lookups());
            assertEquals(2, stats.hits());
            assertEquals(turn1.length + 6, stats.tokensReused());
        }
    }

    @Test
    void reuseStopsAtTheFirstDifferingTokenAndTheLastTwoTokensAlwaysRun() {
        ModelConfig c = ModelShapes.tinyLlama();
        InMemoryTensorStore store = TestModels.store(c, 72);
        int[] history = TestModels.tokens(c, 20, 5);
        // a re-rendered history: the same tokens up to position 12, then another split of the same text
        int[] rerendered = history.clone();
        rerendered[12] = (history[12] + 1) % c.vocabSize();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, cached(RuntimeOptions.Weights.AUTO));
             DjlCausalLm ref = DjlCausalLm.load(c, store, uncached(RuntimeOptions.Weights.AUTO))) {
            lm.prefill(List.of(history)).close();
            assertEquals(12, lm.cachedPrefix(rerendered));
            assertEquals(20 - PromptCache.LEFT_TO_RUN, lm.cachedPrefix(history));
            assertEquals(6 - PromptCache.LEFT_TO_RUN, lm.cachedPrefix(Arrays.copyOf(history, 6)));
            for (int[] p : List.of(rerendered, history, Arrays.copyOf(history, 6))) {
                try (DecodingSession hit = lm.prefill(List.of(p)); DecodingSession want = ref.prefill(List.of(p))) {
                    assertEquals(Math.min(p.length - PromptCache.LEFT_TO_RUN, p == rerendered ? 12 : p.length),
                            hit.reusedPromptTokens(0));
                    sameLogits(want, hit, "prompt of " + p.length);
                }
            }
        }
    }

    @Test
    void baseStreamIsSharedWhenOnlyThePreferenceStreamChanges() {
        ModelConfig c = ModelShapes.tinyQwen3();
        InMemoryTensorStore store = TestModels.store(c, 73);
        int[] base = TestModels.tokens(c, 30, 6);
        int[] concise = concat(TestModels.tokens(c, 4, 7), base);
        int[] formal = concat(TestModels.tokens(c, 6, 8), base);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, cached(RuntimeOptions.Weights.AUTO));
             DjlCausalLm ref = DjlCausalLm.load(c, store, uncached(RuntimeOptions.Weights.AUTO))) {
            lm.prefill(List.of(concise, base)).close();
            List<int[]> next = List.of(formal, base);
            try (DecodingSession hit = lm.prefill(next); DecodingSession want = ref.prefill(next)) {
                assertEquals(0, hit.reusedPromptTokens(0));
                assertEquals(base.length - PromptCache.LEFT_TO_RUN, hit.reusedPromptTokens(1));
                sameLogits(want, hit, "preference changed");
                hit.append(new int[] {1, 1});
                want.append(new int[] {1, 1});
                sameLogits(want, hit, "step after");
            }
        }
    }

    @Test
    void tinyBudgetEvictsAndGreedyAnswersStayTheSame() {
        ModelConfig c = ModelShapes.tinyLlama();
        InMemoryTensorStore store = TestModels.store(c, 74);
        // one row of 40 slots: 2 layers x 2 heads x 16 dims x (key + value) x 4 bytes = 512 bytes a slot
        long budget = 40L * 512 + 40L * 4;
        try (DjlCausalLm plain = DjlCausalLm.load(c, store, uncached(RuntimeOptions.Weights.AUTO))) {
            DecoderLm lm = new DecoderLm(c, new DecoderSettings("tiny", true, 4, 7, budget), plain.forward());
            PromptCache cache = lm.promptCache().orElseThrow();
            List<int[]> conversations = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                conversations.add(TestModels.tokens(c, 12, 10 + k));
            }
            for (int turn = 0; turn < 3; turn++) {
                for (int k = 0; k < conversations.size(); k++) {
                    int[] prompt = concat(conversations.get(k), TestModels.tokens(c, 3, 100 * turn + k));
                    int[] got = greedy(lm, prompt, 5);
                    int[] want = greedy(plain, prompt, 5);
                    assertArrayEquals(want, got, "conversation " + k + " turn " + turn);
                    conversations.set(k, concat(prompt, want));
                    assertTrue(cache.stats().bytesHeld() <= budget, cache.stats().toString());
                }
            }
            PromptCache.Stats stats = cache.stats();
            assertTrue(stats.evictions() > 0, stats.toString());
            assertTrue(stats.entries() >= 1, stats.toString());
        }
    }

    @Test
    void engineKvCacheRunsWithoutAPromptCache() {
        ModelConfig c = ModelShapes.tinyLlama();
        RuntimeOptions opts = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.ENGINE)
                .promptCacheMib(16).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, TestModels.store(c, 75), opts)) {
            assertFalse(lm.promptCache().isPresent());
            int[] p = TestModels.tokens(c, 8, 1);
            lm.prefill(List.of(p)).close();
            try (DecodingSession s = lm.prefill(List.of(p))) {
                assertEquals(0, s.reusedPromptTokens(0));
            }
        }
    }

    /** Greedy tokens after {@code prompt}; the session's streams go to the cache when it closes. */
    private static int[] greedy(DecoderLm lm, int[] prompt, int n) {
        int[] out = new int[n];
        try (DecodingSession s = lm.prefill(List.of(prompt))) {
            for (int i = 0; i < n; i++) {
                float[] row = s.logits().row(0);
                int best = 0;
                for (int v = 1; v < row.length; v++) {
                    if (row[v] > row[best]) {
                        best = v;
                    }
                }
                out[i] = best;
                s.append(new int[] {best});
            }
        }
        return out;
    }

    private static void sameLogits(DecodingSession want, DecodingSession got, String what) {
        assertEquals(want.streams(), got.streams(), what);
        for (int r = 0; r < want.streams(); r++) {
            assertEquals(want.length(r), got.length(r), what + " length of row " + r);
            float d = TestModels.maxAbsDiff(want.logits().row(r), got.logits().row(r));
            assertTrue(d <= TOL, what + " row " + r + ": max difference " + d);
        }
    }
}
