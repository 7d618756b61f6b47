package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightFormat;

import java.util.Arrays;

/**
 * Run by {@link NativeAttentionTest} in a child JVM with {@code -Damulet.native.disable=true} (and in its own JVM):
 * prints whether the native attention runs and a hash of the bits of {@link #logits()}.
 */
public final class NoNativeAttentionMain {

    private NoNativeAttentionMain() {
    }

    /** Two rows of a Qwen2.5-0.5B-wide layer (the second left-padded), prefilled, then one decode step. */
    static float[] logits() {
        var c = PrefillSplitBitwiseTest.qwen2Wide();
        InMemoryTensorStore store = RandomCheckpoint.create(c, 43, TensorLayout.GPT2_PREFIX, 0.1f);
        int[][] rows = new int[2][40];
        for (int j = 0; j < 40; j++) {
            rows[0][j] = (j * 37 + 11) % c.vocabSize();
            rows[1][j] = (j * 53 + 5) % c.vocabSize();
        }
        int[] pad = {0, 9};
        try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.F32, 2, Kernels.JAVA)) {
            KvCache cache = pass.newCache(2, 41);
            float[] out = new float[4 * pass.logitsWidth()];
            float[] first = new float[2 * pass.logitsWidth()];
            pass.run(rows, pad, cache, 16, first);
            float[] step = new float[2 * pass.logitsWidth()];
            pass.run(new int[][] {{7}, {8}}, pad, cache, 1, step);
            System.arraycopy(first, 0, out, 0, first.length);
            System.arraycopy(step, 0, out, first.length, step.length);
            return out;
        }
    }

    /** The hash of {@code a}'s bits. */
    static int bitsHash(float[] a) {
        int[] bits = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            bits[i] = Float.floatToRawIntBits(a[i]);
        }
        return Arrays.hashCode(bits);
    }

    public static void main(String[] args) {
        System.out.println("nativeAttention=" + NativeAttention.applies(64, JavaKvCache.TILE));
        System.out.println("logits=" + bitsHash(logits()));
    }
}
