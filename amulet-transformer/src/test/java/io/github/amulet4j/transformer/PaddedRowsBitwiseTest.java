package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A left-padded row of a batch (the shorter of two streams) gets the bits it gets alone, though the layers' products
 * leave its padding rows out ({@code JavaForward.layerProduct}): the prompt whole and in chunks shorter than the
 * padding (a chunk all padding for that row), then a decode step, on the tiny shapes of every architecture, a sliding
 * window and Qwen2.5-0.5B's widths, in F32 and Q8_0.
 */
class PaddedRowsBitwiseTest {

    @Test
    void aPaddedRowGetsTheBitsItGetsAlone() {
        List<ModelConfig> shapes = shapes();
        int checked = 0;
        for (ModelConfig c : shapes) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 47, TensorLayout.GPT2_PREFIX, 0.1f);
            int longer = 21;
            int shorter = 12;
            int[] a = RandomTokens.of(c, longer, 1);
            int[] b = RandomTokens.of(c, shorter, 2);
            int[] padded = new int[longer];
            System.arraycopy(b, 0, padded, longer - shorter, shorter);
            int[] pad = {0, longer - shorter};
            for (WeightFormat f : formats(c)) {
                try (JavaForward pass = JavaForward.load(c, store, "test", f, 2, Kernels.AUTO)) {
                    int width = pass.logitsWidth();
                    for (int chunk : new int[] {longer, 4}) {
                        String where = c.architecture() + " hidden " + c.hiddenSize() + " " + f + ", chunks of " + chunk;
                        float[][] alone = {run(pass, new int[][] {a}, new int[1], chunk),
                                run(pass, new int[][] {b}, new int[1], chunk)};
                        float[] both = run(pass, new int[][] {a, padded}, pad, chunk);
                        for (int r = 0; r < 2; r++) {
                            for (int step = 0; step < 2; step++) {
                                float[] want = Arrays.copyOfRange(alone[r], step * width, (step + 1) * width);
                                float[] got = Arrays.copyOfRange(both, (2 * step + r) * width, (2 * step + r + 1) * width);
                                assertSameBits(want, got, where + ", row " + r + (step == 0 ? ", prefill" : ", decode step"));
                            }
                        }
                        checked++;
                    }
                }
            }
        }
        assertEquals(true, checked >= 2 * shapes.size());
    }

    /** Every tiny architecture, a sliding window and Qwen2.5-0.5B's widths. */
    static List<ModelConfig> shapes() {
        List<ModelConfig> shapes = new ArrayList<>(ModelShapes.tinyAll());
        shapes.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        shapes.add(PrefillSplitBitwiseTest.qwen2Wide());
        return shapes;
    }

    /**
     * F32, and Q8_0 where the native kernels run it: Q8_0 on the Java kernels (no native library) sums a column in an
     * order that depends on how many columns a product has (one or two, 3 to 15, 16 or more: the user guide's "Native
     * kernels"), and leaving rows out changes that count, where F32's Java kernel sums every column alike.
     */
    static WeightFormat[] formats(ModelConfig c) {
        boolean blocks = c.hiddenSize() % 32 == 0 && c.intermediateSize() % 32 == 0 && NativeKernels.available();
        return blocks ? new WeightFormat[] {WeightFormat.F32, WeightFormat.Q8_0} : new WeightFormat[] {WeightFormat.F32};
    }

    /** The last logits of each row after the prefill, then after one decode step (token 3). */
    static float[] run(JavaForward pass, int[][] rows, int[] pad, int chunk) {
        int width = pass.logitsWidth();
        KvCache cache = pass.newCache(rows.length, rows[0].length + 1);
        float[] out = new float[2 * rows.length * width];
        float[] first = new float[rows.length * width];
        pass.run(rows, pad, cache, chunk, first);
        int[][] next = new int[rows.length][];
        Arrays.fill(next, new int[] {3});
        float[] step = new float[rows.length * width];
        pass.run(next, pad, cache, 1, step);
        System.arraycopy(first, 0, out, 0, first.length);
        System.arraycopy(step, 0, out, first.length, step.length);
        return out;
    }

    static void assertSameBits(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(where + ": logit " + i + " is " + got[i] + ", " + want[i] + " wanted");
            }
        }
    }
}
