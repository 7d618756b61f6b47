package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.LogitsException;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    static final int MODEL_VOCAB = 12; // 2 padded rows
    static final int REAL_VOCAB = 10;
    static final int[] PREF = {3, 1, 4, 1, 5};
    static final int[] BASE = {3, 1, 5};

    private static TableLm lm() {
        return new TableLm(MODEL_VOCAB, REAL_VOCAB, 42);
    }

    private static Generator generator(TableLm lm, GenerationConfig cfg) {
        return new Generator(lm, new TableLm.Tokenizer(REAL_VOCAB), cfg); // no model EOS: tests add their own
    }

    private static GenerationConfig.Builder cfg() {
        return GenerationConfig.builder().maxNewTokens(12);
    }

    private static int[] concat(int[] a, int[] b, int n) {
        int[] out = Arrays.copyOf(a, a.length + n);
        System.arraycopy(b, 0, out, a.length, n);
        return out;
    }

    /** The paper's loop written out naively in double (independent of the library's steps). */
    static double[] naiveAmulet(float[] pref, float[] base, int vocab, AmuletParameters prm) {
        double[] p = logSoftmax(pref, vocab);
        double[] r = logSoftmax(base, vocab);
        double[] x = p.clone();
        double[] sum = new double[vocab];
        double[] y = new double[vocab];
        for (int k = 1; k <= prm.iterations(); k++) {
            for (int i = 0; i < vocab; i++) {
                sum[i] += prm.alpha() * (x[i] - r[i]);
                y[i] = (prm.lambda() * p[i] + sum[i] / k + x[i] / (prm.eta() * k)) / (prm.lambda() + 1.0 / (prm.eta() * k));
            }
            float[] yf = new float[vocab];
            double m = Arrays.stream(y).max().orElseThrow();
            double s = 0;
            for (double v : y) {
                s += Math.exp(v - m);
            }
            for (int i = 0; i < vocab; i++) {
                x[i] = y[i] - m - Math.log(s);
            }
        }
        return y;
    }

    static double[] logSoftmax(float[] a, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, a[i]);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(a[i] - m);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = a[i] - m - Math.log(s);
        }
        return out;
    }

    static int argmax(double[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void amuletTokensAreTheStepOnBothTableRowsAndStreamsStayInLockStep() {
        TableLm lm = lm();
        GenerationResult res = generator(lm, cfg().build()).generate(GenerationRequest.of(BASE, PREF));
        int[] gen = res.tokenIds();
        assertEquals(12, gen.length);
        assertEquals(FinishReason.MAX_NEW_TOKENS, res.finishReason());
        assertEquals(BASE.length, res.basePromptTokens());
        assertEquals(PREF.length, res.preferencePromptTokens());
        for (int t = 0; t < gen.length; t++) {
            float[] p = lm.row(concat(PREF, gen, t));
            float[] b = lm.row(concat(BASE, gen, t));
            int expected = argmax(naiveAmulet(p, b, REAL_VOCAB, AmuletParameters.PAPER_DEFAULTS));
            assertEquals(expected, gen[t], "token " + t);
            assertTrue(gen[t] < REAL_VOCAB, "padded row chosen");
        }
        // one prefill of both streams, one append per step for both streams, all but the last token appended
        assertEquals(1, lm.prefills);
        assertEquals(gen.length - 1, lm.appends);
        assertTrue(lm.appendBatchSizes.stream().allMatch(n -> n == 2));
        assertEquals(2, lm.allStreams.size());
        assertArrayEquals(concat(PREF, gen, gen.length - 1), lm.allStreams.get(0).history);
        assertArrayEquals(concat(BASE, gen, gen.length - 1), lm.allStreams.get(1).history);
        assertEquals(new TableLm.Tokenizer(REAL_VOCAB).decode(gen), res.text());
    }

    @Test
    void amuletDiffersFromPrefAndBaseOnThisTable() {
        // guards the test above against a table where every method agrees
        int[] amulet = generator(lm(), cfg().build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        int[] pref = generator(lm(), cfg().method(AlignmentMethod.PREF).build())
                .generate(GenerationRequest.preferenceOnly(PREF)).tokenIds();
        int[] base = generator(lm(), cfg().method(AlignmentMethod.BASE).build())
                .generate(GenerationRequest.baseOnly(BASE)).tokenIds();
        assertNotEquals(Arrays.toString(pref), Arrays.toString(amulet));
        assertNotEquals(Arrays.toString(base), Arrays.toString(amulet));
    }

    @Test
    void singleStreamMethodsAndLinearAlignmentFollowTheirFormulas() {
        TableLm lm = lm();
        int[] pref = generator(lm, cfg().method(AlignmentMethod.PREF).build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        assertEquals(1, lm.allStreams.size(), "pref needs one stream");
        int[] la = generator(lm(), cfg().method(AlignmentMethod.LA).rho(2.0).build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        for (int t = 0; t < 12; t++) {
            double[] lp = logSoftmax(lm.row(concat(PREF, pref, t)), REAL_VOCAB);
            assertEquals(argmax(lp), pref[t]);
            float[] p = lm.row(concat(PREF, la, t));
            float[] b = lm.row(concat(BASE, la, t));
            double[] y = new double[REAL_VOCAB];
            for (int i = 0; i < REAL_VOCAB; i++) {
                y[i] = p[i] + 2.0 * (p[i] - b[i]);
            }
            assertEquals(argmax(y), la[t]);
        }
    }

    @Test
    void eosEndsARequestAndIsNotPartOfTheOutput() {
        int[] free = generator(lm(), cfg().build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        int eos = free[3];
        int first = 0;
        while (free[first] != eos) {
            first++;
        }
        TableLm lm = lm();
        GenerationResult res = generator(lm, cfg().eosTokenIds(eos).build()).generate(GenerationRequest.of(BASE, PREF));
        assertEquals(FinishReason.EOS, res.finishReason());
        assertArrayEquals(Arrays.copyOf(free, first), res.tokenIds());
        // model EOS given to the generator works the same
        GenerationResult res2 = new Generator(lm(), new TableLm.Tokenizer(REAL_VOCAB), cfg().build(), eos)
                .generate(GenerationRequest.of(BASE, PREF));
        assertArrayEquals(res.tokenIds(), res2.tokenIds());
        assertEquals(FinishReason.EOS, res2.finishReason());
    }

    @Test
    void stopStringEndsARequestAndIsTrimmedAndStreamingMatches() {
        GenerationResult free = generator(lm(), cfg().build()).generate(GenerationRequest.of(BASE, PREF));
        String text = free.text();
        assertTrue(text.length() > 6, text);
        String stop = text.substring(4, 6);
        int at = text.indexOf(stop);
        StringBuilder streamed = new StringBuilder();
        List<Integer> streamedIds = new ArrayList<>();
        GenerationResult res = generator(lm(), cfg().stopStrings(stop).build())
                .generate(GenerationRequest.of(BASE, PREF), (r, id, delta) -> {
                    streamed.append(delta);
                    if (id >= 0) {
                        streamedIds.add(id);
                    }
                });
        assertEquals(FinishReason.STOP_STRING, res.finishReason());
        assertEquals(text.substring(0, at), res.text());
        assertEquals(res.text(), streamed.toString());
        assertEquals(Arrays.toString(res.tokenIds()), streamedIds.toString());
        // the request ended at the first token whose text holds the stop string
        TableLm.Tokenizer tok = new TableLm.Tokenizer(REAL_VOCAB);
        int[] ids = res.tokenIds();
        assertTrue(tok.decode(ids).contains(stop));
        assertTrue(!tok.decode(Arrays.copyOf(ids, ids.length - 1)).contains(stop));
    }

    @Test
    void batchWithRequestsFinishingAtDifferentStepsEqualsEachAlone() {
        int[] free = generator(lm(), cfg().build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        GenerationConfig shared = cfg().build();
        List<GenerationRequest> reqs = List.of(
                GenerationRequest.of(BASE, PREF),
                GenerationRequest.of(new int[] {7, 7}, new int[] {2, 9, 2}).withConfig(cfg().maxNewTokens(3).build()),
                GenerationRequest.of(new int[] {1}, new int[] {8, 8, 8}).withConfig(cfg().eosTokenIds(free[2]).build()),
                GenerationRequest.preferenceOnly(new int[] {5, 6}).withConfig(cfg().method(AlignmentMethod.PREF).maxNewTokens(5).build()),
                GenerationRequest.of(new int[] {4}, new int[] {6}).withConfig(cfg().method(AlignmentMethod.LA).maxNewTokens(7).build()),
                GenerationRequest.of(new int[] {2, 2}, new int[] {3}).withConfig(cfg()
                        .decoding(DecodingConfig.builder().doSample(true).temperature(0.8).topK(5).seed(11).build()).build()));
        Map<Integer, StringBuilder> streamed = new HashMap<>();
        TableLm batchLm = lm();
        List<GenerationResult> batch = new Generator(batchLm, new TableLm.Tokenizer(REAL_VOCAB), shared)
                .generate(reqs, (r, id, d) -> streamed.computeIfAbsent(r, k -> new StringBuilder()).append(d));
        assertEquals(1, batchLm.prefills);
        for (int i = 0; i < reqs.size(); i++) {
            GenerationResult alone = new Generator(lm(), new TableLm.Tokenizer(REAL_VOCAB), shared).generate(reqs.get(i));
            assertArrayEquals(alone.tokenIds(), batch.get(i).tokenIds(), "request " + i);
            assertEquals(alone.finishReason(), batch.get(i).finishReason(), "request " + i);
            assertEquals(alone.text(), batch.get(i).text());
            assertEquals(batch.get(i).text(), streamed.getOrDefault(i, new StringBuilder()).toString());
        }
        // requests really did finish at different steps: batch sizes shrink
        assertTrue(batchLm.appendBatchSizes.get(0) > batchLm.appendBatchSizes.get(batchLm.appendBatchSizes.size() - 1));
        assertEquals(FinishReason.EOS, batch.get(2).finishReason());
        assertEquals(3, batch.get(1).tokenIds().length);
    }

    @Test
    void seededSamplingIsReproducible() {
        GenerationConfig c = cfg().decoding(DecodingConfig.builder().doSample(true).temperature(1.5).topP(0.9).seed(7).build()).build();
        int[] a = generator(lm(), c).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        int[] b = generator(lm(), c).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        assertArrayEquals(a, b);
        assertTrue(Arrays.stream(a).allMatch(t -> t < REAL_VOCAB), "padded rows (logit 50) must never be drawn");
        // another seed gives other tokens (compared with seed 7's own tokens, not with greedy's: a sampler that
        // ignored the seed would still differ from greedy)
        boolean differs = false;
        for (long seed = 1; seed <= 5 && !differs; seed++) {
            GenerationConfig other = c.toBuilder().decoding(c.decoding().toBuilder().seed(seed).build()).build();
            int[] s = generator(lm(), other).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
            differs = !Arrays.equals(s, a);
        }
        assertTrue(differs, "sampling ignores the seed");
    }

    @Test
    void nanLogitsNameStreamStepAndRequest() {
        int[] free = generator(lm(), cfg().build()).generate(GenerationRequest.of(BASE, PREF)).tokenIds();
        TableLm lm = lm();
        lm.poisonHistory = concat(BASE, free, 2); // base stream at step 2
        LogitsException e = assertThrows(LogitsException.class,
                () -> generator(lm, cfg().build()).generate(GenerationRequest.of(BASE, PREF)));
        assertEquals("base", e.stream());
        assertEquals(2, e.step());
        assertEquals(0, e.request());
        assertTrue(e.getMessage().contains("base stream") && e.getMessage().contains("step 2")
                && e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void contextLimitEndsARequest() {
        TableLm lm = lm();
        lm.maxPositions = PREF.length + 4;
        GenerationResult res = generator(lm, cfg().build()).generate(GenerationRequest.of(BASE, PREF));
        assertEquals(FinishReason.MAX_POSITIONS, res.finishReason());
        assertEquals(5, res.tokenIds().length); // 4 appended to the longer stream, plus the last chosen token
    }

    @Test
    void missingStreamsAndBadPromptsAreClearErrors() {
        Generator g = generator(lm(), cfg().build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate(GenerationRequest.preferenceOnly(PREF)));
        assertTrue(e.getMessage().contains("'amulet' needs a base prompt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.generate(GenerationRequest.of(BASE, new int[] {99})));
        assertTrue(e.getMessage().contains("outside the model's vocabulary"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of(new int[0], PREF));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().maxNewTokens(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().numBeams(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().stopStrings("").build());
    }
}
