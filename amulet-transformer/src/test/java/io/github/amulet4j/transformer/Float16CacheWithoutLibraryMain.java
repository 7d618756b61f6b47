package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightFormat;

/**
 * Run by {@link Float16KvCacheTest} in a child JVM with {@code -Damulet.native.disable=true}: a model asked for a
 * float16 KV cache; prints the precision its caches hold and a hash of its logits' bits.
 */
public final class Float16CacheWithoutLibraryMain {

    private Float16CacheWithoutLibraryMain() {
    }

    /** The hash of the bits of every position's logits of a 40-token prompt on Qwen2.5-0.5B's widths. */
    static int logitsHash(KvCachePrecision precision) {
        ModelConfig c = PrefillSplitBitwiseTest.qwen2Wide();
        InMemoryTensorStore store = RandomCheckpoint.create(c, 43, TensorLayout.GPT2_PREFIX, 0.1f);
        try (DecoderLm lm = new DecoderLm(c, new DecoderSettings("no-library", true, 16, 16, 0, precision),
                JavaForward.load(c, store, "no-library", WeightFormat.F32, 2, Kernels.JAVA))) {
            if (precision == KvCachePrecision.F16) {
                System.out.println("precision=" + ((JavaForward) lm.forward()).kvCachePrecision());
            }
            float[][] all = lm.logitsAllPositions(RandomTokens.of(c, 40, 3));
            float[] flat = new float[all.length * all[0].length];
            for (int i = 0; i < all.length; i++) {
                System.arraycopy(all[i], 0, flat, i * all[0].length, all[0].length);
            }
            return NoNativeAttentionMain.bitsHash(flat);
        }
    }

    public static void main(String[] args) {
        System.out.println("logits=" + logitsHash(KvCachePrecision.F16));
    }
}
