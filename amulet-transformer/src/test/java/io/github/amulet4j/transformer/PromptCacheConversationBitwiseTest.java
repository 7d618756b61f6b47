package io.github.amulet4j.transformer;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A conversation of four turns whose history passes 512 slots (where a decode step's attention splits its slots):
 * with the prompt cache, every turn's logits, after its prefill and after every greedy decode step, are the same
 * bits as those of a model without the cache that prefills the whole conversation each turn. The cache keeps only
 * the positions a prefill computed, so the previous answer's tokens, decoded one at a time, are prefilled again
 * with the next turn (cached, their keys and values would be a decode step's, summed in another order).
 */
class PromptCacheConversationBitwiseTest {

    static final int TURNS = 4;
    static final int ANSWER = 16;

    static Stream<Arguments> formats() {
        // Q8_0: the block formats' decode steps sum per block (and quantize the activations on the native kernels,
        // run where the library is present), their prefills per column
        // (and a float16 KV cache, read by the native attention: rows copied out and in as binary16)
        Stream<Arguments> java = Stream.of(Arguments.of(WeightFormat.F32, Kernels.JAVA, KvCachePrecision.F32),
                Arguments.of(WeightFormat.BF16, Kernels.JAVA, KvCachePrecision.F32),
                Arguments.of(WeightFormat.Q8_0, Kernels.JAVA, KvCachePrecision.F32));
        return NativeKernels.available()
                ? Stream.concat(java, Stream.of(Arguments.of(WeightFormat.Q8_0, Kernels.NATIVE, KvCachePrecision.F32),
                        Arguments.of(WeightFormat.Q8_0, Kernels.NATIVE, KvCachePrecision.F16))) : java;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("formats")
    void everyTurnWithTheCacheHasTheBitsOfAFreshPrefill(WeightFormat format, Kernels kernels,
                                                        KvCachePrecision precision) {
        ModelConfig q = ModelShapes.tinyQwen2();
        ModelConfig c = new ModelConfig(q.architecture(), 64, 2, 8, 2, 16, 128, q.vocabSize(), 1024, q.normEps(),
                q.ropeTheta(), null, true, true, false, "silu", null, q.eosTokenIds(), "float32", null);
        InMemoryTensorStore store = RandomCheckpoint.create(c, 93, TensorLayout.GPT2_PREFIX, 0.1f);
        SplittableRandom random = new SplittableRandom(17);
        try (DecoderLm cached = new DecoderLm(c, new DecoderSettings("cached", true, 64, 256, 64L << 20, precision),
                JavaForward.load(c, store, "cached", format, 2, kernels));
             DecoderLm fresh = new DecoderLm(c, new DecoderSettings("fresh", true, 64, 256, 0, precision),
                     JavaForward.load(c, store, "fresh", format, 2, kernels))) {
            if (precision == KvCachePrecision.F16) {
                Assumptions.assumeTrue(((JavaForward) cached.forward()).kvCachePrecision() == precision,
                        "no native attention: no float16 cache");
            }
            int[] conversation = tokens(c, 470, random);
            int[] reused = new int[TURNS];
            int[] previousPrompt = new int[TURNS];
            for (int turn = 0; turn < TURNS; turn++) {
                int[] prompt = concat(conversation, tokens(c, 11, random));
                try (DecodingSession withCache = cached.prefill(List.of(prompt));
                     DecodingSession without = fresh.prefill(List.of(prompt))) {
                    assertSameBits(without.logits().row(0), withCache.logits().row(0), "turn " + turn + " prefill");
                    int[] answer = new int[ANSWER];
                    for (int k = 0; k < ANSWER; k++) {
                        answer[k] = argmax(without.logits().row(0));
                        withCache.append(new int[] {answer[k]});
                        without.append(new int[] {answer[k]});
                        assertSameBits(without.logits().row(0), withCache.logits().row(0),
                                "turn " + turn + " step " + k);
                    }
                    assertEquals(0, without.reusedPromptTokens(0));
                    reused[turn] = withCache.reusedPromptTokens(0);
                    previousPrompt[turn] = turn == 0 ? 0 : conversation.length - ANSWER;
                    conversation = concat(prompt, answer);
                }
            }
            assertTrue(conversation.length > 512 + ANSWER, "the history passes the split-slot attention");
            // each turn reuses the previous turn's prompt, not its answer (decode steps computed it)
            assertArrayEquals(previousPrompt, reused);
        }
    }

    private static void assertSameBits(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(where + ": logit " + i + " is " + got[i] + " with the cache, " + want[i] + " without (difference "
                        + (got[i] - want[i]) + ")");
            }
        }
    }

    /** The index of the largest value of {@code row} (the first of equals). */
    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }

    /** {@code a} followed by {@code b}. */
    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int[] tokens(ModelConfig c, int n, SplittableRandom r) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(c.vocabSize());
        }
        return t;
    }
}
