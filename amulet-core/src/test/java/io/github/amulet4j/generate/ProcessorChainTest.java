package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.decode.HistoryProcessor;
import io.github.amulet4j.decode.LogitsProcessor;
import io.github.amulet4j.decode.TokenHistory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The open decoding chain inside the generator: where each hook runs, with what history, and its effect. */
class ProcessorChainTest {

    static final int VOCAB = 10;
    static final int[] PREF = {3, 1, 4, 1, 5};
    static final int[] BASE = {3, 1, 5};

    static TableLm lm() {
        return new TableLm(12, VOCAB, 42);
    }

    static GenerationResult run(GenerationConfig cfg, AlignmentMethod method) {
        GenerationConfig c = cfg.toBuilder().method(method).build();
        GenerationRequest req = method == AlignmentMethod.BASE ? GenerationRequest.baseOnly(BASE)
                : method == AlignmentMethod.PREF || method == AlignmentMethod.BEAM ? GenerationRequest.preferenceOnly(PREF)
                : GenerationRequest.of(BASE, PREF);
        return new Generator(lm(), new TableLm.Tokenizer(VOCAB), c).generate(req);
    }

    /**
     * Greedy decoding written out naively: each stream's row goes through {@code transform} with that stream's
     * history (prompt + generated), then the method's rule, then argmax.
     */
    static int[] naiveGreedy(AlignmentMethod method, int steps, BiConsumer<int[], float[]> transform) {
        TableLm lm = lm();
        List<Integer> gen = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            float[] p = row(lm, PREF, gen, transform);
            float[] b = row(lm, BASE, gen, transform);
            double[] scores = switch (method) {
                case PREF -> GeneratorTest.logSoftmax(p, VOCAB);
                case BASE -> GeneratorTest.logSoftmax(b, VOCAB);
                case AMULET -> naiveAmuletWithMasks(p, b);
                default -> throw new IllegalArgumentException();
            };
            gen.add(GeneratorTest.argmax(scores));
        }
        return gen.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The paper's loop over the tokens finite in both streams; a token masked in either stays masked. */
    static double[] naiveAmuletWithMasks(float[] p, float[] b) {
        int[] live = java.util.stream.IntStream.range(0, VOCAB)
                .filter(t -> p[t] != Float.NEGATIVE_INFINITY && b[t] != Float.NEGATIVE_INFINITY).toArray();
        float[] lp = new float[live.length];
        float[] lb = new float[live.length];
        for (int i = 0; i < live.length; i++) {
            lp[i] = p[live[i]];
            lb[i] = b[live[i]];
        }
        double[] y = GeneratorTest.naiveAmulet(lp, lb, live.length, AmuletParameters.PAPER_DEFAULTS);
        double[] out = new double[VOCAB];
        Arrays.fill(out, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < live.length; i++) {
            out[live[i]] = y[i];
        }
        return out;
    }

    private static float[] row(TableLm lm, int[] prompt, List<Integer> gen, BiConsumer<int[], float[]> transform) {
        int[] h = Arrays.copyOf(prompt, prompt.length + gen.size());
        for (int i = 0; i < gen.size(); i++) {
            h[prompt.length + i] = gen.get(i);
        }
        float[] r = Arrays.copyOf(lm.row(h), VOCAB);
        transform.accept(h, r);
        return r;
    }

    /** Hugging Face's repetition penalty, written out. */
    static BiConsumer<int[], float[]> penalty(double theta) {
        return (h, r) -> {
            boolean[] done = new boolean[r.length];
            for (int t : h) {
                if (!done[t]) {
                    done[t] = true;
                    r[t] = r[t] < 0 ? (float) (r[t] * theta) : (float) (r[t] / theta);
                }
            }
        };
    }

    /** Hugging Face's no_repeat_ngram_size, written out. */
    static BiConsumer<int[], float[]> noRepeat(int n) {
        return (h, r) -> {
            for (int i = 0; i + n <= h.length; i++) {
                if (Arrays.equals(Arrays.copyOfRange(h, i, i + n - 1), Arrays.copyOfRange(h, h.length - (n - 1), h.length))) {
                    r[h[i + n - 1]] = Float.NEGATIVE_INFINITY;
                }
            }
        };
    }

    @Test
    void repetitionPenaltyMatchesTheNaiveLoopAndChangesTheTokens() {
        for (AlignmentMethod m : List.of(AlignmentMethod.PREF, AlignmentMethod.BASE, AlignmentMethod.AMULET)) {
            GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(12)
                    .decoding(DecodingConfig.builder().repetitionPenalty(3.0).build()).build();
            int[] got = run(cfg, m).tokenIds();
            assertArrayEquals(naiveGreedy(m, 12, penalty(3.0)), got, m.id());
            assertFalse(Arrays.equals(naiveGreedy(m, 12, (h, r) -> { }), got), m.id() + ": the penalty changes nothing");
        }
    }

    @Test
    void noRepeatNgramMatchesTheNaiveLoop() {
        for (int n : new int[] {1, 2, 3}) {
            for (AlignmentMethod m : List.of(AlignmentMethod.PREF, AlignmentMethod.AMULET)) {
                GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(n == 1 ? 5 : 12)
                        .decoding(DecodingConfig.builder().noRepeatNgramSize(n).build()).build();
                int[] got = run(cfg, m).tokenIds();
                assertArrayEquals(naiveGreedy(m, got.length, noRepeat(n)), got, m.id() + " n=" + n);
                if (n == 1) {
                    for (int t : got) {
                        assertTrue(Arrays.stream(PREF).noneMatch(p -> p == t), "n = 1 bans the prompt's tokens");
                    }
                    assertEquals(got.length, Arrays.stream(got).distinct().count(), "and every token generated");
                }
            }
        }
        // without the ban, greedy decoding of this table repeats a bigram
        int[] plain = naiveGreedy(AlignmentMethod.PREF, 12, (h, r) -> { });
        assertNotEquals(12, Arrays.stream(plain).distinct().count());
    }

    /** Records every history it is given (stateless). */
    static final class HistoryLog implements HistoryProcessor {
        final List<String> seen = new ArrayList<>();
        final List<Integer> accepted = new ArrayList<>();

        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
            seen.add(Arrays.toString(history.toArray()) + "/" + history.promptLength());
        }

        @Override
        public void accept(int token) {
            accepted.add(token);
        }
    }

    @Test
    void beforeStepSeesEachStreamsHistoryAfterStepThePreferenceStreamsAndAcceptTheToken() {
        HistoryLog before = new HistoryLog();
        HistoryLog after = new HistoryLog();
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(2).processorBeforeStep(before)
                .processorAfterStep(after).build();
        int[] t = run(cfg, AlignmentMethod.AMULET).tokenIds();
        assertEquals(2, t.length);
        assertEquals(List.of("[3, 1, 4, 1, 5]/5", "[3, 1, 5]/3",
                "[3, 1, 4, 1, 5, " + t[0] + "]/5", "[3, 1, 5, " + t[0] + "]/3"), before.seen);
        assertEquals(List.of("[3, 1, 4, 1, 5]/5", "[3, 1, 4, 1, 5, " + t[0] + "]/5"), after.seen);
        assertEquals(List.of(t[0], t[1]), before.accepted);
        assertEquals(List.of(t[0], t[1]), after.accepted);
        HistoryLog baseOnly = new HistoryLog();
        run(GenerationConfig.builder().maxNewTokens(1).processorAfterStep(baseOnly).build(), AlignmentMethod.BASE);
        assertEquals(List.of("[3, 1, 5]/3"), baseOnly.seen, "base alone: the base stream's history");
    }

    @Test
    void aTokenBannedBeforeTheStepIsNeverGeneratedByAnyMethod() {
        for (AlignmentMethod m : List.of(AlignmentMethod.BASE, AlignmentMethod.PREF, AlignmentMethod.LA, AlignmentMethod.AMULET, AlignmentMethod.BEAM)) {
            GenerationConfig plain = GenerationConfig.builder().maxNewTokens(6).numBeams(3).build();
            int first = run(plain, m).tokenIds()[0];
            LogitsProcessor ban = (l, o, v) -> l[o + first] = Float.NEGATIVE_INFINITY;
            int[] got = run(plain.toBuilder().processorBeforeStep(ban).build(), m).tokenIds();
            assertTrue(got.length > 0);
            assertTrue(Arrays.stream(got).noneMatch(x -> x == first), m.id() + ": " + Arrays.toString(got));
            // the same ban after the step (on the adjusted row, or each beam's scores)
            int[] after = run(plain.toBuilder().processorAfterStep(ban).build(), m).tokenIds();
            assertTrue(Arrays.stream(after).noneMatch(x -> x == first), m.id() + " after: " + Arrays.toString(after));
        }
    }

    /**
     * Bans the token it accepted last (no immediate repetition), and checks that its state matches the history
     * it is given: a processor shared between requests or beams would see another sequence's history.
     */
    static final class NoImmediateRepeat implements HistoryProcessor {
        int last = -1;
        int accepted;

        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
            if (history.generatedLength() != accepted) {
                throw new AssertionError("state of " + accepted + " tokens, history of " + history.generatedLength());
            }
            if (accepted > 0 && history.get(history.length() - 1) != last) {
                throw new AssertionError("last accepted " + last + ", history ends with " + history.get(history.length() - 1));
            }
            if (last >= 0) {
                logits[off + last] = Float.NEGATIVE_INFINITY;
            }
        }

        @Override
        public void accept(int token) {
            last = token;
            accepted++;
        }

        @Override
        public HistoryProcessor copy() {
            NoImmediateRepeat c = new NoImmediateRepeat();
            c.last = last;
            c.accepted = accepted;
            return c;
        }
    }

    @Test
    void statefulProcessorsGetACopyPerRequestAndPerBeam() {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(10).numBeams(4)
                .processorBeforeStep(new NoImmediateRepeat()).build();
        for (AlignmentMethod m : List.of(AlignmentMethod.AMULET, AlignmentMethod.BEAM)) {
            GenerationConfig c = cfg.toBuilder().method(m).build();
            List<GenerationRequest> reqs = List.of(GenerationRequest.of(BASE, PREF), GenerationRequest.of(PREF, BASE),
                    GenerationRequest.of(new int[] {7}, new int[] {2, 2}));
            List<GenerationResult> batch = new Generator(lm(), new TableLm.Tokenizer(VOCAB), c).generate(reqs);
            for (int i = 0; i < reqs.size(); i++) {
                int[] alone = new Generator(lm(), new TableLm.Tokenizer(VOCAB), c).generate(reqs.get(i)).tokenIds();
                assertArrayEquals(alone, batch.get(i).tokenIds(), m.id() + " request " + i);
                for (int k = 1; k < alone.length; k++) {
                    assertNotEquals(alone[k - 1], alone[k], m.id() + ": " + Arrays.toString(alone));
                }
            }
        }
        assertEquals(-1, ((NoImmediateRepeat) cfg.processorsBeforeStep().get(0)).last, "the configuration's own is untouched");
    }

    @Test
    void minPOneSamplesTheArgmax() {
        // min-p 1 keeps only the most likely token: sampling at any seed is greedy decoding
        GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(8).build();
        int[] g = run(greedy, AlignmentMethod.AMULET).tokenIds();
        for (long seed = 1; seed <= 3; seed++) {
            GenerationConfig s = greedy.toBuilder().decoding(DecodingConfig.builder().doSample(true).temperature(5)
                    .minP(1.0).seed(seed).build()).build();
            assertArrayEquals(g, run(s, AlignmentMethod.AMULET).tokenIds());
        }
        GenerationConfig hot = greedy.toBuilder().decoding(DecodingConfig.builder().doSample(true).temperature(5)
                .seed(1).build()).build();
        assertFalse(Arrays.equals(g, run(hot, AlignmentMethod.AMULET).tokenIds()), "without min-p, temperature 5 differs");
    }
}
