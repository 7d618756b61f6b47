package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.LongRope;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A prompt's logits on the Java kernels are the same bits whatever its chunking and whatever prefix was prefilled
 * before (as after a prompt-cache hit): the prompt whole against the same prompt cut at every point {@code k} (the
 * first {@code k} tokens in one pass, the rest in a second pass over the same cache), against chunks of 1, 3 and 17
 * tokens, and against a batch of two rows (the products of 2, 3 and many columns), for the tiny shapes of every
 * architecture, a window shorter than the prompt, in F32, BF16 and F16, and a Qwen2-0.5B-wide layer in BF16 (the block formats'
 * one- and two-column kernels sum per block: their cuts agree where each pass has three tokens or more). A long
 * history (more slots than a decode step's split-slot attention starts at) is cut near its end too.
 */
class PrefillSplitBitwiseTest {

    static final int PROMPT = 37;

    static Stream<Arguments> cases() {
        List<ModelConfig> shapes = new ArrayList<>(ModelShapes.tinyAll());
        shapes.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        shapes.add(qwen2Wide());
        List<Arguments> all = new ArrayList<>();
        for (ModelConfig c : shapes) {
            WeightFormat[] formats = c.hiddenSize() > 512 ? new WeightFormat[] {WeightFormat.BF16}
                    : new WeightFormat[] {WeightFormat.F32, WeightFormat.BF16, WeightFormat.F16};
            for (WeightFormat f : formats) {
                all.add(Arguments.of(c.architecture() + " hidden " + c.hiddenSize()
                        + (c.slidingWindow() == null ? "" : " window " + c.slidingWindow()) + " " + f, c, f));
            }
        }
        return all.stream();
    }

    /** Qwen2.5-0.5B's widths (hidden 896, 14 heads of 64 over 2 key heads, 4,864 intermediate), one layer. */
    static ModelConfig qwen2Wide() {
        ModelConfig q = ModelShapes.tinyQwen2();
        return new ModelConfig(q.architecture(), 896, 1, 14, 2, 64, 4864, 301, 1024, q.normEps(), q.ropeTheta(), null,
                true, true, false, "silu", null, q.eosTokenIds(), "float32", null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyCutAndChunkingGivesTheSameBits(String name, ModelConfig c, WeightFormat format) {
        InMemoryTensorStore store = RandomCheckpoint.create(c, 91, TensorLayout.GPT2_PREFIX, 0.1f);
        // longrope rotates a whole row by its length after the pass: a prompt past the switch has no split to equal
        int length = Math.min(PROMPT, LongRope.switchLength(c));
        int[] prompt = RandomTokens.of(c, length, 5);
        boolean wide = c.hiddenSize() > 512;
        try (JavaForward pass = JavaForward.load(c, store, "test", format, 2, Kernels.JAVA)) {
            float[] whole = last(pass, prompt, length);
            for (int chunk : new int[] {1, 3, 17, length - 1}) {
                assertSameBits(whole, last(pass, prompt, chunk), name + ", chunks of " + chunk);
            }
            for (int k = 1; k < length; k++) {
                if (!wide || k < 5 || k > length - 5 || k % 8 == 0) {
                    assertSameBits(whole, cutAt(pass, prompt, k), name + ", cut at " + k);
                }
            }
            // two rows: every product has twice the columns
            int[][] two = {prompt, RandomTokens.of(c, length, 6)};
            float[] both = new float[2 * pass.logitsWidth()];
            pass.run(two, new int[2], pass.newCache(2, length), length, both);
            assertSameBits(whole, Arrays.copyOf(both, pass.logitsWidth()), name + ", batch of two rows");
        }
    }

    /**
     * Past a decode step's split-slot threshold (512 slots): cuts two and three tokens before the end (a prompt-cache
     * hit leaves {@link PromptCache#LEFT_TO_RUN}) and midway, chunks of 7 and a last chunk of one token (run with the
     * one before). Chunks of one token there are decode steps, split over ranges of slots: not the same bits.
     */
    @Test
    void aLongHistoryCutNearItsEndGivesTheSameBits() {
        ModelConfig q = ModelShapes.tinyQwen2();
        ModelConfig c = new ModelConfig(q.architecture(), 64, 2, 8, 2, 16, 112, q.vocabSize(), 1024, q.normEps(),
                q.ropeTheta(), null, true, true, false, "silu", null, q.eosTokenIds(), "float32", null);
        InMemoryTensorStore store = RandomCheckpoint.create(c, 92, TensorLayout.GPT2_PREFIX, 0.1f);
        int length = 600;
        int[] prompt = RandomTokens.of(c, length, 7);
        assertEquals(2, PromptCache.LEFT_TO_RUN);
        try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.BF16, 2, Kernels.JAVA)) {
            float[] whole = last(pass, prompt, 256);
            for (int k : new int[] {length - PromptCache.LEFT_TO_RUN, length - 3, 300}) {
                assertSameBits(whole, cutAt(pass, prompt, k), "cut at " + k + " of " + length);
            }
            for (int chunk : new int[] {7, length - 1}) {
                assertSameBits(whole, last(pass, prompt, chunk), "chunks of " + chunk + " of " + length);
            }
        }
    }

    /**
     * Seven heads per key head over a history of 300 slots (a prefill's queries go four at a time, their values in
     * blocks of 64 slots: {@link QueryBlockAttention}): the whole prompt against chunks of 3 (queries one by one),
     * of 5 (a block of four and one alone), and cuts near the end and midway.
     */
    @Test
    void queryBlocksOverALongHistoryGiveTheSameBits() {
        ModelConfig c = qwen2Wide();
        InMemoryTensorStore store = RandomCheckpoint.create(c, 93, TensorLayout.GPT2_PREFIX, 0.1f);
        int length = 300;
        int[] prompt = RandomTokens.of(c, length, 8);
        try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.BF16, 2, Kernels.JAVA)) {
            float[] whole = last(pass, prompt, 256);
            for (int chunk : new int[] {3, 5}) {
                assertSameBits(whole, last(pass, prompt, chunk), "chunks of " + chunk + " of " + length);
            }
            for (int k : new int[] {length - PromptCache.LEFT_TO_RUN, length - 7, 150}) {
                assertSameBits(whole, cutAt(pass, prompt, k), "cut at " + k + " of " + length);
            }
        }
    }

    private static float[] last(JavaForward pass, int[] prompt, int chunk) {
        float[] out = new float[pass.logitsWidth()];
        pass.run(new int[][] {prompt}, new int[1], pass.newCache(1, prompt.length), chunk, out);
        return out;
    }

    private static float[] cutAt(JavaForward pass, int[] prompt, int k) {
        KvCache cache = pass.newCache(1, prompt.length);
        float[] out = new float[pass.logitsWidth()];
        pass.run(new int[][] {Arrays.copyOf(prompt, k)}, new int[1], cache, prompt.length, out);
        pass.run(new int[][] {Arrays.copyOfRange(prompt, k, prompt.length)}, new int[1], cache, prompt.length, out);
        assertEquals(prompt.length, cache.used());
        return out;
    }

    private static void assertSameBits(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(where + ": logit " + i + " is " + got[i] + ", the whole prompt's " + want[i] + " (difference "
                        + (got[i] - want[i]) + ")");
            }
        }
    }
}
