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
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.github.amulet4j.transformer.PromptCacheConversationBitwiseTest.argmax;
import static io.github.amulet4j.transformer.PromptCacheConversationBitwiseTest.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whole passes over a float16 KV cache ({@link KvCachePrecision#F16}): logits close to the float32 cache's (every
 * tiny shape, Qwen2.5-0.5B's widths, sliding windows, split decode attention), half the cache's bytes; a bounded
 * sliding-window cache in float16 gives the logits of an unbounded one; with the prompt cache, the greedy tokens and
 * logits of a fresh prefill (cached-vs-uncached, both float16); where the native attention does not run (Gemma 2's
 * soft-capping; a JVM without the library) the cache stays float32, with the float32 logits and a log line.
 */
class Float16KvCacheTest {

    /**
     * The largest difference of a logit over a float16 cache from the float32 one, relative to the largest logit of
     * the row: each key and value is off by at most 2^-11 of itself (about 5e-4), scores by about that much of
     * {@code |q| |k|}, and the layers carry that on without growing it much: measured at most 1.1e-3 on these
     * shapes; 1e-2 leaves room and still fails a cache that, say, dropped a slot or read another row's values.
     */
    static final double RELATIVE_TOLERANCE = 1e-2;

    private static void assumeNative() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        Assumptions.assumeTrue(NativeAttention.applies(64, JavaKvCache.TILE), "no AVX2 with FMA: no native attention");
    }

    private static List<ModelConfig> shapes() {
        List<ModelConfig> shapes = new ArrayList<>(ModelShapes.tinyAll());
        shapes.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        shapes.add(PrefillSplitBitwiseTest.qwen2Wide());
        return shapes;
    }

    /** Two rows (the second left-padded), prefilled in chunks of 7, then three decode steps: every logit. */
    private static float[] run(JavaForward pass, ModelConfig c) {
        int length = 40;
        int[][] rows = {RandomTokens.of(c, length, 1), RandomTokens.of(c, length, 2)};
        int[] pad = {0, 9};
        int width = pass.logitsWidth();
        float[] out = new float[4 * 2 * width];
        try (KvCache cache = pass.newCache(2, 8)) {
            float[] step = new float[2 * width];
            pass.run(rows, pad, cache, 7, step);
            System.arraycopy(step, 0, out, 0, step.length);
            for (int k = 1; k < 4; k++) {
                pass.run(new int[][] {{3 + k}, {5 + k}}, pad, cache, 1, step);
                System.arraycopy(step, 0, out, k * step.length, step.length);
            }
        }
        return out;
    }

    @Test
    void logitsOverAFloat16CacheAreCloseToTheFloat32Ones() {
        assumeNative();
        int checked = 0;
        double worst = 0;
        List<String> skipped = new ArrayList<>();
        for (ModelConfig c : shapes()) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 41, TensorLayout.GPT2_PREFIX, 0.1f);
            try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.F32, 2, Kernels.JAVA)) {
                String why = pass.kvCachePrecision(KvCachePrecision.F16);
                if (c.isGemma() && c.gemma().attnLogitSoftcapping() != null) {
                    assertNotNull(why, "Gemma 2 soft-caps: the cache stays float32");
                    assertTrue(why.contains("soft-caps"), why);
                }
                if (c.headDim() % 8 != 0) {
                    assertNotNull(why, "heads of " + c.headDim() + ": no native attention, the cache stays float32");
                    assertTrue(why.contains("multiples of 8"), why);
                }
                if (why != null) {
                    assertEquals(KvCachePrecision.F32, pass.kvCachePrecision());
                    skipped.add(c.architecture() + " " + c.headDim());
                    continue;
                }
                for (boolean split : new boolean[] {false, true}) {
                    // split: the decode steps' attention in slot ranges of at least 4 (binary16 partials)
                    pass.splitSlots(split ? 4 : JavaForward.SPLIT_SLOTS, JavaForward.SPLIT_UNITS_PER_THREAD);
                    pass.kvCachePrecision(KvCachePrecision.F32);
                    float[] f32 = run(pass, c);
                    pass.kvCachePrecision(KvCachePrecision.F16);
                    float[] f16 = run(pass, c);
                    int width = pass.logitsWidth();
                    boolean same = true;
                    for (int row = 0; row < f32.length / width; row++) {
                        double scale = 0;
                        double diff = 0;
                        for (int i = row * width; i < (row + 1) * width; i++) {
                            scale = Math.max(scale, Math.abs(f32[i]));
                            diff = Math.max(diff, Math.abs((double) f16[i] - f32[i]));
                            same &= Float.floatToRawIntBits(f16[i]) == Float.floatToRawIntBits(f32[i]);
                        }
                        worst = Math.max(worst, diff / scale);
                        if (!(diff <= RELATIVE_TOLERANCE * scale)) {
                            fail(c.architecture() + " hidden " + c.hiddenSize() + (split ? ", split" : "") + ", row "
                                    + row + ": a logit differs by " + diff + ", the largest is " + scale);
                        }
                    }
                    assertTrue(!same, c.architecture() + ": the float16 cache changed no logit bit");
                    checked++;
                }
            }
        }
        System.out.println("float16 KV cache: largest logit difference " + worst + " of the row's largest logit");
        System.out.println("float32 kept (no native attention) for " + skipped);
        assertEquals(2 * (shapes().size() - skipped.size()), checked);
        assertTrue(checked >= 8, "Qwen2.5-0.5B's widths, Gemma 3 and the other shapes with heads of 8k dimensions");
    }

    /** Gemma 3 (sliding 6, three of four layers) and Qwen2.5-0.5B's widths (sliding 5): bounded = unbounded. */
    @Test
    void aBoundedFloat16SlidingCacheGivesTheLogitsOfAnUnboundedOneInHalfTheBytes() {
        assumeNative();
        for (ModelConfig c : List.of(ModelShapes.tinyGemma3(),
                PrefillSplitBitwiseTest.qwen2Wide().withSlidingWindow(5))) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 81, TensorLayout.GPT2_PREFIX, 0.1f);
            int width = 120;
            int[][] batch = new int[2][width];
            int[] pad = {0, 50};
            batch[0] = RandomTokens.of(c, width, 30);
            System.arraycopy(RandomTokens.of(c, width - pad[1], 31), 0, batch[1], pad[1], width - pad[1]);
            try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.F32, 2, Kernels.JAVA)) {
                long[] bytes = new long[2];
                for (KvCachePrecision p : KvCachePrecision.values()) {
                    assertNull(pass.kvCachePrecision(p));
                    float[][] got = new float[2 * width][pass.logitsWidth()];
                    float[][] want = new float[2 * width][pass.logitsWidth()];
                    try (KvCache bounded = pass.newCache(2, 4); KvCache unbounded = pass.newUnboundedCache(2, 4)) {
                        pass.runAll(batch, pad, bounded, 7, got);
                        pass.runAll(batch, pad, unbounded, 7, want);
                        float[] gotStep = new float[2 * pass.logitsWidth()];
                        float[] wantStep = new float[2 * pass.logitsWidth()];
                        for (int k = 0; k < 20; k++) {
                            pass.run(new int[][] {{3 + k}, {5 + k}}, pad, bounded, 1, gotStep);
                            pass.run(new int[][] {{3 + k}, {5 + k}}, pad, unbounded, 1, wantStep);
                            assertClose(wantStep, gotStep, c + " " + p + " decode step " + k);
                        }
                        assertTrue(bounded.bytes() < unbounded.bytes());
                        bytes[p.ordinal()] = bounded.bytes();
                    }
                    for (int i = 0; i < want.length; i++) {
                        if (i % width >= pad[i / width]) {
                            assertClose(want[i], got[i], c + " " + p + " position " + i);
                        }
                    }
                }
                assertEquals(bytes[KvCachePrecision.F32.ordinal()], 2 * bytes[KvCachePrecision.F16.ordinal()],
                        "a float16 cache holds the slots of a float32 one in half the bytes");
            }
        }
    }

    private static void assertClose(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(want[i] - got[i]) <= 1e-4f)) {
                fail(where + ": logit " + i + " is " + got[i] + ", unbounded " + want[i]);
            }
        }
    }

    /**
     * With the prompt cache (float16 rows copied out and in, sliding layers' too), every turn's logits are the bits of
     * a fresh prefill of the whole conversation over a float16 cache, and so are the greedy tokens.
     */
    @Test
    void promptCacheHitsGiveTheTokensAndBitsOfAFreshPrefillInFloat16() {
        assumeNative();
        for (ModelConfig c : List.of(ModelShapes.tinyQwen2(), ModelShapes.tinyGemma3())) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 93, TensorLayout.GPT2_PREFIX, 0.1f);
            try (DecoderLm cached = new DecoderLm(c, new DecoderSettings("cached", true, 16, 64, 16L << 20,
                    KvCachePrecision.F16), JavaForward.load(c, store, "cached", WeightFormat.F32, 2, Kernels.JAVA));
                 DecoderLm fresh = new DecoderLm(c, new DecoderSettings("fresh", true, 16, 64, 0,
                         KvCachePrecision.F16), JavaForward.load(c, store, "fresh", WeightFormat.F32, 2,
                         Kernels.JAVA))) {
                assertEquals(KvCachePrecision.F16, ((JavaForward) cached.forward()).kvCachePrecision());
                int[] conversation = RandomTokens.of(c, 30, 5);
                int reused = 0;
                for (int turn = 0; turn < 3; turn++) {
                    int[] prompt = concat(conversation, RandomTokens.of(c, 4, 10 + turn));
                    try (DecodingSession withCache = cached.prefill(List.of(prompt));
                         DecodingSession without = fresh.prefill(List.of(prompt))) {
                        assertSameBits(without.logits().row(0), withCache.logits().row(0), c + " turn " + turn);
                        int[] answer = new int[6];
                        for (int k = 0; k < answer.length; k++) {
                            answer[k] = argmax(withCache.logits().row(0));
                            assertEquals(argmax(without.logits().row(0)), answer[k],
                                    c + " turn " + turn + " token " + k);
                            withCache.append(new int[] {answer[k]});
                            without.append(new int[] {answer[k]});
                            assertSameBits(without.logits().row(0), withCache.logits().row(0),
                                    c + " turn " + turn + " step " + k);
                        }
                        reused += withCache.reusedPromptTokens(0);
                        conversation = concat(prompt, answer);
                    }
                }
                assertTrue(reused > 0, c + ": the prompt cache served a prefix");
            }
        }
    }

    /** A JVM without the library, asked for a float16 cache: float32, the float32 logits' bits, and a log line. */
    @Test
    void withoutTheLibraryFloat16AskedGivesTheFloat32LogitsAndSaysSo() throws Exception {
        assumeNative();
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-D" + NativeKernels.DISABLE_PROPERTY + "=true", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Float16CacheWithoutLibraryMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("precision=F32\n"), out);
        assertTrue(out.contains("float32, not the float16 asked for: the native attention is not loaded"), out);
        // here the native attention runs over a float32 cache: the bits of the Java attention (NativeAttentionTest)
        assertTrue(out.contains("logits=" + Float16CacheWithoutLibraryMain.logitsHash(KvCachePrecision.F32) + "\n"),
                out);
    }

    private static void assertSameBits(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(where + ": logit " + i + " is " + got[i] + " with the prompt cache, " + want[i] + " without");
            }
        }
    }
}
