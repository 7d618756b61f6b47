package io.github.amulet4j.transformer;

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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The native attention ({@link NativeAttention}) against softmax attention computed naively in float64 from the same
 * keys, values and queries (a query seeing no slot: the mean of all values), on every variant this CPU has; bit for
 * bit against the Java {@link QueryBlockAttention}; and whole passes of {@link JavaForward} with the native attention
 * and with the Java paths giving the same logits bits (two rows of different lengths, so left padding; a sliding
 * window; chunks; seven and four heads a key head).
 */
class NativeAttentionTest extends NativeVariantTestBase {

    @Test
    void everyVariantMatchesSoftmaxAttentionInFloat64() {
        assumeNative();
        before = NativeExp.variant();
        int slots = 300;
        int rows = 6;
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            // {heads, i0, n, query0, pad, window}
            int[][] cases = {{7, 0, 6, 0, 0, Integer.MAX_VALUE}, {14, 1, 5, 200, 3, Integer.MAX_VALUE},
                    {8, 0, 4, 290, 0, 37}, {3, 2, 3, 17, 17, Integer.MAX_VALUE}, {9, 0, 6, 5, 8, Integer.MAX_VALUE},
                    {1, 0, 1, 299, 0, 1}};
            for (int[] c : cases) {
                int heads = c[0], i0 = c[1], n = c[2], query0 = c[3], pad = c[4], window = c[5];
                AttentionInputs s = AttentionInputs.random(HEAD_DIM, slots, heads, rows, 0.3, 17 + v);
                int total = Math.min(query0 + n + 2, slots);
                float[] attn = new float[rows * s.qDim()];
                float[] scratch = new float[8 * (total + TILE)];
                NativeAttention.attendChecked(s.keys(), s.values(), s.qkv(), attn, scratch, HEAD_DIM, TILE,
                        s.qkvDim(), s.qDim(), i0, n, query0, 0, heads, pad, window, total);
                for (int j = 0; j < n; j++) {
                    int query = query0 + j;
                    int lo = (int) Math.max(pad, (long) query - window + 1);
                    for (int h = 0; h < heads; h++) {
                        double[] want = lo > query ? AttentionReference.mean(s.values(), total, HEAD_DIM)
                                : AttentionReference.naive(s.plainKeys(), s.values(), s.qkv(),
                                        (i0 + j) * s.qkvDim() + h * HEAD_DIM, lo, query, HEAD_DIM);
                        for (int d = 0; d < HEAD_DIM; d++) {
                            assertEquals(want[d], attn[(i0 + j) * s.qDim() + h * HEAD_DIM + d], 1e-5,
                                    "variant " + v + ", case " + java.util.Arrays.toString(c) + ", query " + j
                                            + ", head " + h + ", dim " + d);
                        }
                    }
                }
            }
        }
    }

    @Test
    void everyVariantGivesTheBitsOfTheJavaQueryBlocks() {
        assumeNative();
        Assumptions.assumeTrue(QueryBlockAttention.applies(HEAD_DIM));
        before = NativeExp.variant();
        int rows = 4;
        AttentionInputs s = AttentionInputs.random(HEAD_DIM, 700, 8, rows, 0.3, 5);
        QueryBlockAttention block = new QueryBlockAttention(HEAD_DIM, s.qkvDim(), s.qDim(), 0f);
        // {i0, n, count, lo, query0}
        // (the Java blocks take only queries that see a slot: lo <= query0)
        int[][] cases = {{0, 4, 7, 0, 650}, {1, 3, 8, 5, 696}, {0, 1, 7, 17, 40}, {2, 2, 6, 0, 130}, {0, 4, 8, 33, 40},
                {0, 4, 5, 0, 0}};
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int[] c : cases) {
                int i0 = c[0], n = c[1], count = c[2], lo = c[3], query0 = c[4];
                float[] want = new float[rows * s.qDim()];
                block.attend(s.keys(), s.values(), s.qkv(), want, i0, n, 0, count, lo, query0);
                float[] got = new float[rows * s.qDim()];
                int total = query0 + n;
                NativeAttention.attendChecked(s.keys(), s.values(), s.qkv(), got, new float[8 * (total + TILE)],
                        HEAD_DIM, TILE, s.qkvDim(), s.qDim(), i0, n, query0, 0, count, lo, Integer.MAX_VALUE, total);
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                        fail("variant " + v + ", case " + java.util.Arrays.toString(c) + ", element " + i + ": "
                                + got[i] + ", Java " + want[i]);
                    }
                }
            }
        }
    }

    /**
     * A split decode step's partials against float64: per head the largest score of the range, the sum of
     * {@code exp(score - max)} and the unnormalized weighted sum of the values, on every variant; ranges that start
     * and end inside a tile, a single slot, fewer than eight heads (the statistics of the missing ones repeat the
     * last).
     */
    @Test
    void everyVariantsSplitPartialsMatchFloat64() {
        assumeNative();
        before = NativeExp.variant();
        int slots = 600;
        AttentionInputs s = AttentionInputs.random(HEAD_DIM, slots, 8, 1, 0.3, 23);
        // {from, to, count}
        int[][] cases = {{0, 600, 8}, {256, 600, 7}, {13, 300, 7}, {40, 41, 3}, {511, 513, 1}, {5, 29, 5}};
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int[] c : cases) {
                int from = c[0], to = c[1], count = c[2];
                float[] values = new float[2 * 8 * HEAD_DIM];
                float[] stats = new float[3 + 16];
                int out = 8 * HEAD_DIM;
                NativeAttention.attendPartialChecked(s.keys(), s.values(), s.qkv(), values, stats,
                        new float[8 * (to - from + 2 * TILE)], HEAD_DIM, TILE, 0, count, from, to, out, 3);
                String where = "variant " + v + ", case " + java.util.Arrays.toString(c);
                for (int h = 0; h < 8; h++) {
                    int hq = Math.min(h, count - 1);
                    double[] score = new double[to - from];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int x = from; x < to; x++) {
                        double a = 0;
                        for (int d = 0; d < HEAD_DIM; d++) {
                            a += (double) s.plainKeys()[x][d] * s.qkv()[hq * HEAD_DIM + d];
                        }
                        score[x - from] = a;
                        max = Math.max(max, a);
                    }
                    double sum = 0;
                    double[] acc = new double[HEAD_DIM];
                    for (int x = from; x < to; x++) {
                        double e = Math.exp(score[x - from] - max);
                        sum += e;
                        for (int d = 0; d < HEAD_DIM; d++) {
                            acc[d] += e * s.values()[x * HEAD_DIM + d];
                        }
                    }
                    assertEquals(max, stats[3 + h], 1e-4, where + ", head " + h + ": maximum");
                    assertEquals(sum, stats[3 + 8 + h], 1e-4 * sum, where + ", head " + h + ": sum");
                    if (h < count) {
                        for (int d = 0; d < HEAD_DIM; d++) {
                            assertEquals(acc[d], values[out + h * HEAD_DIM + d], 1e-4 * Math.max(1, sum),
                                    where + ", head " + h + ", dim " + d);
                        }
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> NativeAttention.attendPartialChecked(s.keys(), s.values(),
                s.qkv(), new float[8 * HEAD_DIM], new float[16], new float[8 * 64], HEAD_DIM, TILE, 0, 8, 7, 7, 0, 0));
    }

    @Test
    void arraysTooShortForTheCallAreRefused() {
        assumeNative();
        AttentionInputs s = AttentionInputs.random(HEAD_DIM, 40, 7, 2, 0.3, 3);
        float[] attn = new float[2 * s.qDim()];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.attendChecked(s.keys(), s.values(), s.qkv(), attn, new float[8], HEAD_DIM, TILE,
                        s.qkvDim(), s.qDim(), 0, 2, 30, 0, 7, 0, Integer.MAX_VALUE, 32));
        assertEquals(true, e.getMessage().contains("scratch 8"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.attendChecked(s.keys(), s.values(), s.qkv(), attn, new float[8 * 64], HEAD_DIM,
                        TILE, s.qkvDim(), s.qDim(), 0, 2, 39, 0, 7, 0, Integer.MAX_VALUE, 40));
    }

    /**
     * Whole passes: the native attention against the Java paths, the same logits bits, for two rows of different
     * lengths (the shorter left-padded: its padding queries see no slot) in chunks and whole, on the tiny shapes, a
     * sliding window and Qwen2.5-0.5B's widths (seven heads a key head).
     */
    @Test
    void passesWithAndWithoutTheNativeAttentionGiveTheSameBits() {
        assumeNative();
        List<ModelConfig> shapes = new ArrayList<>(ModelShapes.tinyAll());
        shapes.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        shapes.add(PrefillSplitBitwiseTest.qwen2Wide());
        int checked = 0;
        int splitSeen = 0;
        for (ModelConfig c : shapes) {
            InMemoryTensorStore store = RandomCheckpoint.create(c, 41, TensorLayout.GPT2_PREFIX, 0.1f);
            int length = 23;
            int[][] rows = {RandomTokens.of(c, length, 1), RandomTokens.of(c, length, 2)};
            int[] pad = {0, 6};
            try (JavaForward pass = JavaForward.load(c, store, "test", WeightFormat.F32, 2, Kernels.JAVA)) {
                for (int chunk : new int[] {length, 5}) {
                    // split: the decode step's attention in slot ranges of at least 4 (partials, then combined)
                    for (boolean split : new boolean[] {false, true}) {
                        pass.splitSlots(split ? 4 : JavaForward.SPLIT_SLOTS, JavaForward.SPLIT_UNITS_PER_THREAD);
                        if (split && pass.splitRanges(rows.length, length + 1) > 1 && c == shapes.get(shapes.size() - 1)) {
                            splitSeen++;
                        }
                        pass.nativeAttention(false);
                        float[] java = run(pass, rows, pad, chunk);
                        pass.nativeAttention(true);
                        float[] nat = run(pass, rows, pad, chunk);
                        for (int i = 0; i < java.length; i++) {
                            if (Float.floatToRawIntBits(java[i]) != Float.floatToRawIntBits(nat[i])) {
                                fail(c.architecture() + " hidden " + c.hiddenSize() + ", chunks of " + chunk
                                        + (split ? ", split decode" : "") + ": logit " + i + " is " + nat[i]
                                        + " native, " + java[i] + " Java");
                            }
                        }
                        checked++;
                    }
                }
            }
        }
        assertEquals(4 * shapes.size(), checked);
        assertEquals(2, splitSeen, "the decode step of Qwen2.5-0.5B's widths split into ranges");
    }

    /** A child JVM without the library (the Java attention, the Java exponentials) gives the logits' bits. */
    @Test
    void aJvmWithoutTheLibraryGivesTheSameLogits() throws Exception {
        assumeNative();
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-D" + NativeKernels.DISABLE_PROPERTY + "=true", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                NoNativeAttentionMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(true, out.contains("nativeAttention=false\n"), out);
        assertEquals(true, out.contains("logits=" + NoNativeAttentionMain.bitsHash(NoNativeAttentionMain.logits()) + "\n"),
                out);
    }

    private static float[] run(JavaForward pass, int[][] rows, int[] pad, int chunk) {
        float[] out = new float[rows.length * pass.logitsWidth()];
        // one token more: a decode step after the prefill
        KvCache cache = pass.newCache(rows.length, rows[0].length + 1);
        pass.run(rows, pad, cache, chunk, out);
        int[][] next = new int[rows.length][1];
        float[] step = new float[out.length];
        pass.run(next, pad, cache, 1, step);
        float[] both = java.util.Arrays.copyOf(out, 2 * out.length);
        System.arraycopy(step, 0, both, out.length, step.length);
        return both;
    }
}
