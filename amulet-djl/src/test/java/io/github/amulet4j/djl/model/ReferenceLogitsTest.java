package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DJL logits against the naive Java reference, for every architecture. */
class ReferenceLogitsTest {

    static final float TOL = 1e-4f;

    static List<ModelConfig> configs() {
        return ModelShapes.tinyAll();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyPositionMatchesReference(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 11);
        int[] prompt = TestModels.tokens(c, 40, 5);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store)) {
            float[][] got = lm.logitsAllPositions(prompt);
            float spread = 0;
            for (int t = 0; t < prompt.length; t++) {
                float d = TestModels.maxAbsDiff(want[t], got[t]);
                assertTrue(d <= TOL, c.architecture() + " position " + t + ": max abs diff " + d);
                spread = Math.max(spread, TestModels.maxAbsDiff(want[t], want[0]));
            }
            // the logits really vary with the input, so the tolerance is meaningful
            assertTrue(spread > 0.1f, "reference logits barely move: " + spread);
            try (DecodingSession s = lm.prefill(List.of(prompt))) {
                Logits l = s.logits();
                assertEquals(1, l.rows());
                assertEquals(c.vocabSize(), l.vocab());
                float d = TestModels.maxAbsDiff(want[prompt.length - 1], l.row(0));
                assertTrue(d <= TOL, "prefill last position: " + d);
                assertEquals(prompt.length, s.length(0));
            }
        }
    }

    @Test
    void mistralSlidingWindowMatchesTheReferenceInPrefillAndCachedDecoding() {
        ModelConfig c = ModelShapes.tinyMistral().withSlidingWindow(5);
        InMemoryTensorStore store = TestModels.store(c, 13);
        int[] prompt = TestModels.tokens(c, 14, 6);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        // guard: the window must change what the tested positions see
        float[][] full = new NaiveReference(c.withSlidingWindow(null), store).logits(prompt);
        assertTrue(TestModels.maxAbsDiff(want[13], full[13]) > 1e-3f, "the window changes nothing at position 13");
        assertTrue(TestModels.maxAbsDiff(want[3], full[3]) < 1e-9f, "positions inside the window are unchanged");
        for (RuntimeOptions.LinearKernel kernel : RuntimeOptions.LinearKernel.values()) {
            RuntimeOptions opts = RuntimeOptions.builder().linearKernel(kernel).initialCacheCapacity(4).build();
            try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
                float[][] got = lm.logitsAllPositions(prompt);
                for (int t = 0; t < prompt.length; t++) {
                    float d = TestModels.maxAbsDiff(want[t], got[t]);
                    assertTrue(d <= TOL, kernel + " position " + t + ": " + d);
                }
                // prefill 6 tokens, then one token at a time through the window's edge, padded beside a longer row
                int[] head = java.util.Arrays.copyOf(prompt, 6);
                try (DecodingSession s = lm.prefill(List.of(head, TestModels.tokens(c, 9, 7)))) {
                    for (int i = 6; i < prompt.length; i++) {
                        s.append(new int[] {prompt[i], 1});
                        float d = TestModels.maxAbsDiff(want[i], s.logits().row(0));
                        assertTrue(d <= TOL, kernel + " cached step at position " + i + ": " + d);
                    }
                }
            }
        }
    }

    @Test
    void llama3ScalingChangesLogitsAtTestedPositions() {
        // guards the test above: the llama3 remapping must matter for the positions it checks
        ModelConfig c = ModelShapes.tinyLlama();
        InMemoryTensorStore store = TestModels.store(c, 11);
        int[] prompt = TestModels.tokens(c, 40, 5);
        float[][] scaled = new NaiveReference(c, store).logits(prompt);
        float[][] plain = new NaiveReference(TestModels.withoutRopeScaling(c), store).logits(prompt);
        float d = TestModels.maxAbsDiff(scaled[prompt.length - 1], plain[prompt.length - 1]);
        assertTrue(d > 1e-2f, "llama3 scaling does not change the reference: " + d);
    }

    @Test
    void linearRopeScalingMatchesTheReference() {
        ModelConfig plain = TestModels.withoutRopeScaling(ModelShapes.tinyLlama());
        ModelConfig c = TestModels.withRopeScaling(plain, new ModelConfig.RopeScaling("linear", 4.0, 0, 0, 0));
        InMemoryTensorStore store = TestModels.store(c, 17);
        int[] prompt = TestModels.tokens(c, 24, 3);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        // guard: the scaling matters at the tested positions
        float[][] unscaled = new NaiveReference(plain, store).logits(prompt);
        assertTrue(TestModels.maxAbsDiff(want[23], unscaled[23]) > 1e-2f, "linear scaling changes nothing");
        try (DjlCausalLm lm = DjlCausalLm.load(c, store); DecodingSession s = lm.prefill(List.of(java.util.Arrays.copyOf(prompt, 20)))) {
            float[][] got = lm.logitsAllPositions(prompt);
            for (int t = 0; t < prompt.length; t++) {
                float d = TestModels.maxAbsDiff(want[t], got[t]);
                assertTrue(d <= TOL, "position " + t + ": " + d);
            }
            for (int i = 20; i < prompt.length; i++) {
                s.append(new int[] {prompt[i]});
                float d = TestModels.maxAbsDiff(want[i], s.logits().row(0));
                assertTrue(d <= TOL, "cached step at position " + i + ": " + d);
            }
        }
    }

    @Test
    void gpt2NamesWithoutPrefixLoadTheSame() {
        ModelConfig c = ModelShapes.tinyGpt2();
        InMemoryTensorStore prefixed = RandomCheckpoint.create(c, 3, "transformer.", TestModels.TEST_STD);
        InMemoryTensorStore bare = RandomCheckpoint.create(c, 3, "", TestModels.TEST_STD);
        assertTrue(bare.contains("wte.weight") && prefixed.contains("transformer.wte.weight"));
        int[] prompt = TestModels.tokens(c, 12, 1);
        try (DjlCausalLm a = DjlCausalLm.load(c, prefixed); DjlCausalLm b = DjlCausalLm.load(c, bare)) {
            float[][] la = a.logitsAllPositions(prompt);
            float[][] lb = b.logitsAllPositions(prompt);
            float[][] want = new NaiveReference(c, bare).logits(prompt);
            for (int t = 0; t < prompt.length; t++) {
                assertTrue(TestModels.maxAbsDiff(la[t], lb[t]) == 0f);
                assertTrue(TestModels.maxAbsDiff(want[t], lb[t]) <= TOL);
            }
        }
    }
}
