package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.github.amulet4j.transformer.PromptCacheConversationBitwiseTest.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two streams that begin with the same tokens (Amulet's base and preference prompts share their system prompt's
 * start) multiply each shared position once ({@code JavaForward.layerProduct}), and each still gets the bits it gets
 * alone and the bits of a pass that multiplies every position: the longer stream first or second, of other lengths
 * (left padding) or the same, the prompt whole and in chunks shorter than the shared part (where the streams' shared
 * positions fall in the same chunks only if they have one length), then a decode step; on the
 * tiny shapes of every architecture, a sliding window and Qwen2.5-0.5B's widths, in F32 and (native kernels) Q8_0.
 */
class SharedPrefixBitwiseTest {

    @Test
    void sharedPositionsAreMultipliedOnceWithTheSameBits() {
        List<ModelConfig> shapes = PaddedRowsBitwiseTest.shapes();
        int checked = 0;
        for (ModelConfig c : shapes) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 53, TensorLayout.GPT2_PREFIX, 0.1f);
            int shared = 9;
            int[] common = RandomTokens.of(c, shared, 3);
            int[][][] pairs = {
                    {concat(common, RandomTokens.of(c, 12, 4)), concat(common, RandomTokens.of(c, 5, 5))},
                    {concat(common, RandomTokens.of(c, 5, 6)), concat(common, RandomTokens.of(c, 12, 7))},
                    {concat(common, RandomTokens.of(c, 7, 8)), concat(common, RandomTokens.of(c, 7, 9))}};
            for (WeightFormat f : PaddedRowsBitwiseTest.formats(c)) {
                try (JavaForward pass = JavaForward.load(c, store, "test", f, 2, Kernels.AUTO)) {
                    int width = pass.logitsWidth();
                    for (int[][] pair : pairs) {
                        int longer = Math.max(pair[0].length, pair[1].length);
                        int[] pad = {longer - pair[0].length, longer - pair[1].length};
                        int[][] rows = {padded(pair[0], longer), padded(pair[1], longer)};
                        for (int chunk : new int[] {longer, 4}) {
                            String where = c.architecture() + " hidden " + c.hiddenSize() + " " + f + ", lengths "
                                    + pair[0].length + " and " + pair[1].length + ", chunks of " + chunk;
                            float[][] alone = {
                                    PaddedRowsBitwiseTest.run(pass, new int[][] {pair[0]}, new int[1], chunk),
                                    PaddedRowsBitwiseTest.run(pass, new int[][] {pair[1]}, new int[1], chunk)};
                            long before = pass.sharedColumnCount();
                            float[] both = PaddedRowsBitwiseTest.run(pass, rows, pad, chunk);
                            long shared0 = pass.sharedColumnCount() - before;
                            pass.sharedColumns(false);
                            float[] every;
                            try {
                                every = PaddedRowsBitwiseTest.run(pass, rows, pad, chunk);
                            } finally {
                                pass.sharedColumns(true);
                            }
                            assertEquals(shared0, pass.sharedColumnCount() - before, where + ": none shared when off");
                            // at least the first layer's q/k/v and gate/up inputs of every shared position, where
                            // the two streams' shared positions run in the same chunk (the whole prompt in one, or
                            // streams of one length); in chunks, a padded stream's lie in later chunks than the other's
                            if (chunk == longer || pad[0] == pad[1]) {
                                assertTrue(shared0 >= 2L * shared, where + ": " + shared0 + " rows shared");
                            }
                            PaddedRowsBitwiseTest.assertSameBits(every, both, where + ", every position multiplied");
                            for (int r = 0; r < 2; r++) {
                                for (int step = 0; step < 2; step++) {
                                    float[] want = Arrays.copyOfRange(alone[r], step * width, (step + 1) * width);
                                    float[] got = Arrays.copyOfRange(both, (2 * step + r) * width,
                                            (2 * step + r + 1) * width);
                                    PaddedRowsBitwiseTest.assertSameBits(want, got, where + ", row " + r
                                            + (step == 0 ? ", prefill" : ", decode step"));
                                }
                            }
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked >= 6 * shapes.size(), checked + " cases");
    }

    private static int[] padded(int[] tokens, int length) {
        int[] out = new int[length];
        System.arraycopy(tokens, 0, out, length - tokens.length, tokens.length);
        return out;
    }
}
