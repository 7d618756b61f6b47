package io.github.amulet4j.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerChainTest {

    static final float NINF = Float.NEGATIVE_INFINITY;

    /** Token ids sorted by logit descending, then id ascending (naive, boxed). */
    static List<Integer> naiveOrder(float[] logits) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] != NINF) {
                ids.add(i);
            }
        }
        ids.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        return ids;
    }

    static boolean[] naiveTopK(float[] logits, int k) {
        boolean[] keep = new boolean[logits.length];
        List<Integer> order = naiveOrder(logits);
        for (int j = 0; j < Math.min(k, order.size()); j++) {
            keep[order.get(j)] = true;
        }
        return keep;
    }

    static boolean[] naiveTopP(float[] logits, double p) {
        List<Integer> order = naiveOrder(logits);
        double[] prob = new double[logits.length];
        double z = 0;
        for (int i : order) {
            z += Math.exp(logits[i]);
        }
        for (int i : order) {
            prob[i] = Math.exp(logits[i]) / z;
        }
        boolean[] keep = new boolean[logits.length];
        double cum = 0;
        for (int i : order) {
            keep[i] = true;
            cum += prob[i];
            if (cum >= p - 1e-12) {
                break;
            }
        }
        return keep;
    }

    static float[] randomLogits(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextInt(8) == 0 ? NINF : (float) Math.round(r.nextGaussian() * 4) / 2f; // many ties
        }
        a[r.nextInt(n)] = 1f;
        return a;
    }

    static boolean[] kept(float[] a) {
        boolean[] k = new boolean[a.length];
        for (int i = 0; i < a.length; i++) {
            k[i] = a[i] != NINF;
        }
        return k;
    }

    @Test
    void topKMatchesNaiveReference() {
        SplittableRandom r = new SplittableRandom(1);
        for (int trial = 0; trial < 300; trial++) {
            float[] a = randomLogits(r, 1 + r.nextInt(60));
            int k = 1 + r.nextInt(a.length + 2);
            float[] b = a.clone();
            new TopK(k).process(b, 0, b.length);
            assertArrayEquals(naiveTopK(a, k), kept(b), "trial " + trial);
            for (int i = 0; i < a.length; i++) {
                if (b[i] != NINF) {
                    assertEquals(a[i], b[i], "kept logits are unchanged");
                }
            }
        }
    }

    @Test
    void topPMatchesNaiveReference() {
        SplittableRandom r = new SplittableRandom(2);
        for (int trial = 0; trial < 300; trial++) {
            float[] a = randomLogits(r, 1 + r.nextInt(60));
            double p = trial % 10 == 0 ? 1.0 : 0.05 + 0.9 * r.nextDouble();
            float[] b = a.clone();
            new TopP(p).process(b, 0, b.length);
            assertArrayEquals(p >= 1 ? kept(a) : naiveTopP(a, p), kept(b), "trial " + trial + " p=" + p);
        }
    }

    @Test
    void processorsWorkOnARowInsideALargerArray() {
        float[] block = {9f, 9f, 1f, 3f, 2f, 9f};
        new TopK(1).process(block, 2, 3);
        assertArrayEquals(new float[] {9f, 9f, NINF, 3f, NINF, 9f}, block);
        assertEquals(1, GreedyPicker.INSTANCE.pick(block, 2, 3, null));
    }

    @Test
    void greedyIsArgmaxWithLowestIdOnTies() {
        assertEquals(1, GreedyPicker.INSTANCE.pick(new float[] {0f, 3f, 3f, NINF}, 0, 4, null));
        SamplerChain chain = SamplerChain.of(DecodingConfig.builder().temperature(0.3).topK(2).topP(0.5).build());
        assertTrue(chain.processors().isEmpty(), "greedy needs no filters (they never change the argmax)");
        assertThrows(IllegalStateException.class, () -> GreedyPicker.INSTANCE.pick(new float[] {NINF}, 0, 1, null));
    }

    @Test
    void seededSamplingIsReproducibleAndFollowsTheDistribution() {
        DecodingConfig cfg = DecodingConfig.builder().doSample(true).temperature(2.0).seed(99).build();
        float[] logits = {2f, 0f, NINF, 1f};
        int[] a = draw(cfg, logits, 2000);
        int[] b = draw(cfg, logits, 2000);
        assertArrayEquals(a, b);
        // temperature 2: probabilities of exp(1), exp(0), 0, exp(0.5)
        double z = Math.exp(1) + 1 + Math.exp(0.5);
        int[] counts = new int[4];
        for (int t : a) {
            counts[t]++;
        }
        assertEquals(0, counts[2], "masked token drawn");
        assertEquals(Math.exp(1) / z, counts[0] / 2000.0, 0.04);
        assertEquals(1 / z, counts[1] / 2000.0, 0.04);
        int[] c = draw(DecodingConfig.builder().doSample(true).temperature(2.0).seed(100).build(), logits, 2000);
        assertTrue(!Arrays.equals(a, c), "another seed gives other draws");
    }

    private static int[] draw(DecodingConfig cfg, float[] logits, int n) {
        SamplerChain chain = SamplerChain.of(cfg);
        SplittableRandom rng = SamplerChain.randomFor(cfg);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = chain.sample(logits.clone(), 0, logits.length, rng);
        }
        return out;
    }

    @Test
    void chainOrderIsTemperatureTopKTopP() {
        SamplerChain chain = SamplerChain.of(DecodingConfig.builder().doSample(true).temperature(0.7).topK(40).topP(0.9).seed(1).build());
        assertEquals("[Temperature[0.7], TopK[40], TopP[0.9]]", chain.processors().toString());
        assertEquals(RandomPicker.INSTANCE, chain.picker());
    }

    @Test
    void invalidDecodingSettingsAreRejected() {
        assertMessage("temperature", () -> DecodingConfig.builder().doSample(true).temperature(0).build());
        assertMessage("temperature", () -> DecodingConfig.builder().temperature(Double.NaN).build());
        assertMessage("topK", () -> DecodingConfig.builder().topK(-1).build());
        assertMessage("topP", () -> DecodingConfig.builder().topP(0).build());
        assertMessage("topP", () -> DecodingConfig.builder().topP(1.5).build());
        assertMessage("topP", () -> DecodingConfig.builder().topP(Double.NaN).build());
        assertTrue(DecodingConfig.greedy().isGreedy());
        assertTrue(DecodingConfig.greedy().seed().isEmpty());
    }

    @Test
    void doSampleIsHuggingFacesRuleAndTemperatureZeroIsGreedy() {
        assertTrue(DecodingConfig.builder().build().isGreedy());
        assertTrue(!DecodingConfig.builder().build().doSample());
        DecodingConfig zero = DecodingConfig.builder().temperature(0).build();
        assertTrue(zero.isGreedy(), "temperature 0 is greedy");
        assertTrue(SamplerChain.of(zero).processors().isEmpty());
        assertEquals(GreedyPicker.INSTANCE, SamplerChain.of(zero).picker());
        DecodingConfig sample = DecodingConfig.builder().doSample(true).build();
        assertTrue(sample.doSample() && !sample.isGreedy());
        assertEquals(RandomPicker.INSTANCE, SamplerChain.of(sample).picker());
        @SuppressWarnings("deprecation")
        DecodingConfig old = DecodingConfig.builder().greedy(false).build();
        assertTrue(old.doSample(), "the deprecated greedy(false) still means sampling");
        assertTrue(DecodingConfig.sampling(0.5, 3).doSample());
        assertEquals(DecodingConfig.builder().doSample(true).temperature(0.5).topK(3).topP(0.5).seed(4).build().toString(),
                DecodingConfig.builder().doSample(true).temperature(0.5).topK(3).topP(0.5).seed(4).build().toBuilder().build()
                        .toString());
        assertMessage("temperature", () -> DecodingConfig.builder().temperature(-0.5).build());
        assertMessage("temperature", () -> DecodingConfig.builder().temperature(Double.POSITIVE_INFINITY).build());
    }

    @Test
    void tinyTemperaturesDrawTheArgmaxAndNeverNaN() {
        // before the fix, 1/T overflowed float: 0 * inf = NaN and the draw silently took the last token
        float[] logits = {0f, 2f, -1f, 1.5f, NINF};
        for (double t : new double[] {1e-3, 1e-20, 3e-39, 1e-45, Double.MIN_VALUE}) {
            float[] row = logits.clone();
            new Temperature(t).process(row, 0, row.length);
            for (float v : row) {
                assertTrue(!Float.isNaN(v) && v != Float.POSITIVE_INFINITY, "temperature " + t + ": " + Arrays.toString(row));
            }
            assertEquals(NINF, row[4], "a masked token stays masked");
            int[] draws = draw(DecodingConfig.builder().doSample(true).temperature(t).seed(5).build(), logits, 200);
            for (int d : draws) {
                assertEquals(1, d, "temperature " + t);
            }
        }
        // the same for rows of negative values (log-probabilities), where max / T overflows to -inf
        float[] logProbs = {-3f, -0.2f, -2f};
        for (int d : draw(DecodingConfig.sampling(1e-42, 1), logProbs, 50)) {
            assertEquals(1, d);
        }
        // ordinary temperatures divide exactly as before
        float[] row = {2f, -1f, NINF};
        new Temperature(0.5).process(row, 0, 3);
        assertArrayEquals(new float[] {4f, -2f, NINF}, row);
    }

    @Test
    void pickersRefuseNaNFromAProcessor() {
        float[] bad = {1f, Float.NaN, 0f};
        assertThrows(IllegalStateException.class, () -> GreedyPicker.INSTANCE.pick(bad, 0, 3, null));
        assertThrows(IllegalStateException.class, () -> RandomPicker.INSTANCE.pick(bad, 0, 3, new SplittableRandom(1)));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable ex) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
