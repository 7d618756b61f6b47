package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AlignmentMethod;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BeamSearchTest {

    static final int[] PROMPT = {2, 3, 1};

    private record Best(int[] ids, double score) {
    }

    /** Exhaustive search over every sequence of at most {@code maxLen} tokens (EOS = 0). */
    private static Best bruteForce(TableLm lm, int maxLen, double lengthPenalty) {
        Best[] best = {new Best(null, Double.NEGATIVE_INFINITY)};
        walk(lm, new ArrayList<>(), 0.0, maxLen, lengthPenalty, best);
        return best[0];
    }

    private static void walk(TableLm lm, List<Integer> path, double sum, int maxLen, double lp, Best[] best) {
        int[] hist = new int[PROMPT.length + path.size()];
        System.arraycopy(PROMPT, 0, hist, 0, PROMPT.length);
        for (int i = 0; i < path.size(); i++) {
            hist[PROMPT.length + i] = path.get(i);
        }
        double[] logp = GeneratorTest.logSoftmax(lm.row(hist), lm.realVocab);
        for (int t = 0; t < lm.realVocab; t++) {
            double s = sum + logp[t];
            int len = path.size() + 1;
            if (t == 0 || len == maxLen) {
                int[] ids = path.stream().mapToInt(Integer::intValue).toArray();
                if (t != 0) {
                    ids = Arrays.copyOf(ids, ids.length + 1);
                    ids[ids.length - 1] = t;
                }
                double score = s / Math.pow(len, lp);
                if (score > best[0].score()) {
                    best[0] = new Best(ids, score);
                }
            } else {
                path.add(t);
                walk(lm, path, s, maxLen, lp, best);
                path.remove(path.size() - 1);
            }
        }
    }

    @Test
    void wideBeamEqualsExhaustiveSearch() {
        double[] penalties = {1.0, 0.0, 2.0, -0.5};
        int penaltyMatters = 0;
        for (long seed = 1; seed <= 12; seed++) {
            int maxLen = 3 + (int) (seed % 2);
            String[] bests = new String[penalties.length];
            for (int k = 0; k < penalties.length; k++) {
                double lengthPenalty = penalties[k];
                TableLm lm = new TableLm(4, 4, seed);
                GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(128)
                        .maxNewTokens(maxLen).lengthPenalty(lengthPenalty).eosTokenIds(0).build();
                GenerationResult res = new Generator(lm, new TableLm.Tokenizer(4), cfg)
                        .generate(GenerationRequest.preferenceOnly(PROMPT));
                Best best = bruteForce(lm, maxLen, lengthPenalty);
                String where = "seed " + seed + ", length penalty " + lengthPenalty + ", best score " + best.score();
                assertArrayEquals(best.ids(), res.tokenIds(), where);
                assertEquals(res.tokenIds().length < maxLen ? FinishReason.EOS : FinishReason.MAX_NEW_TOKENS,
                        res.finishReason(), where);
                assertFalse(lm.selects.isEmpty(), "beam search must reorder caches with select");
                bests[k] = Arrays.toString(best.ids());
            }
            if (Arrays.stream(bests).distinct().count() > 1) {
                penaltyMatters++;
            }
        }
        assertTrue(penaltyMatters >= 2, "the tables must make the length penalty matter, got " + penaltyMatters);
    }

    /** A plain reference beam search over the table (no caches), following the documented rules. */
    private static int[] referenceBeamSearch(TableLm lm, int[] prompt, int numBeams, int maxLen, double lp) {
        record B(int[] ids, double sum) {
        }
        record C(double sum, int beam, int token) {
        }
        record H(int[] ids, double score) {
        }
        List<B> beams = List.of(new B(new int[0], 0.0));
        List<H> finished = new ArrayList<>();
        for (int len = 1; len <= maxLen; len++) {
            List<C> cands = new ArrayList<>();
            for (int b = 0; b < beams.size(); b++) {
                int[] hist = Arrays.copyOf(prompt, prompt.length + beams.get(b).ids().length);
                System.arraycopy(beams.get(b).ids(), 0, hist, prompt.length, beams.get(b).ids().length);
                double[] logp = GeneratorTest.logSoftmax(lm.row(hist), lm.realVocab);
                for (int t = 0; t < lm.realVocab; t++) {
                    cands.add(new C(beams.get(b).sum() + logp[t], b, t));
                }
            }
            cands.sort((x, y) -> x.sum() != y.sum() ? Double.compare(y.sum(), x.sum())
                    : x.beam() != y.beam() ? Integer.compare(x.beam(), y.beam()) : Integer.compare(x.token(), y.token()));
            List<B> next = new ArrayList<>();
            for (int rank = 0; rank < Math.min(2 * numBeams, cands.size()) && next.size() < numBeams; rank++) {
                C c = cands.get(rank);
                int[] parent = beams.get(c.beam()).ids();
                if (c.token() == 0) {
                    if (rank < numBeams) {
                        finished.add(new H(parent, c.sum() / Math.pow(len, lp)));
                    }
                    continue;
                }
                int[] ids = Arrays.copyOf(parent, parent.length + 1);
                ids[parent.length] = c.token();
                if (len == maxLen) {
                    finished.add(new H(ids, c.sum() / Math.pow(len, lp)));
                } else {
                    next.add(new B(ids, c.sum()));
                }
            }
            finished.sort((x, y) -> Double.compare(y.score(), x.score()));
            while (finished.size() > numBeams) {
                finished.remove(finished.size() - 1);
            }
            if (next.isEmpty()) {
                break;
            }
            if (finished.size() == numBeams) {
                double bestSum = next.stream().mapToDouble(B::sum).max().orElseThrow();
                double bound = bestSum / Math.pow(lp > 0 ? maxLen : len + 1, lp);
                if (bound <= finished.get(numBeams - 1).score()) {
                    break;
                }
            }
            beams = next;
        }
        return finished.get(0).ids();
    }

    @Test
    void narrowBeamEqualsReferenceBeamSearch() {
        int earlyStops = 0;
        for (long seed = 20; seed < 40; seed++) {
            int numBeams = 1 + (int) (seed % 4);
            double lp = seed % 3 == 0 ? 0.0 : 1.0;
            TableLm lm = new TableLm(5, 5, seed);
            // the reference's stopping bound is Hugging Face's early_stopping "never"
            GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(numBeams).maxNewTokens(8)
                    .lengthPenalty(lp).earlyStopping(EarlyStopping.NEVER).eosTokenIds(0).build();
            GenerationResult res = new Generator(lm, new TableLm.Tokenizer(5), cfg)
                    .generate(GenerationRequest.preferenceOnly(PROMPT));
            assertArrayEquals(referenceBeamSearch(lm, PROMPT, numBeams, 8, lp), res.tokenIds(), "seed " + seed);
            if (lm.appends < 7) {
                earlyStops++;
            }
        }
        assertTrue(earlyStops > 0, "no case stopped before maxNewTokens: the stopping rule is untested");
    }

    @Test
    void sampledBeamSearchIsSeededAndBecomesGreedyBeamAtLowTemperature() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (long seed = 50; seed < 58; seed++) {
            GenerationConfig greedy = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(3).maxNewTokens(6)
                    .eosTokenIds(0).build();
            GenerationConfig cold = greedy.toBuilder().decoding(io.github.amulet4j.decode.DecodingConfig.builder()
                    .doSample(true).temperature(1e-4).seed(seed).build()).build();
            GenerationConfig hot = greedy.toBuilder().decoding(io.github.amulet4j.decode.DecodingConfig.builder()
                    .doSample(true).temperature(2.0).topK(4).seed(seed).build()).build();
            int[] g = run(new TableLm(8, 8, 99), greedy);
            assertArrayEquals(g, run(new TableLm(8, 8, 99), cold), "temperature -> 0 is greedy beam, seed " + seed);
            int[] h1 = run(new TableLm(8, 8, 99), hot);
            assertArrayEquals(h1, run(new TableLm(8, 8, 99), hot), "same seed, same tokens");
            seen.add(Arrays.toString(h1));
            // in a batch beside other requests: the same tokens
            List<GenerationResult> batch = new Generator(new TableLm(8, 8, 99), new TableLm.Tokenizer(8), hot).generate(List.of(
                    GenerationRequest.of(new int[] {1, 2}, new int[] {3}).withConfig(GenerationConfig.builder().maxNewTokens(2).build()),
                    GenerationRequest.preferenceOnly(PROMPT)));
            assertArrayEquals(h1, batch.get(1).tokenIds());
        }
        assertTrue(seen.size() > 1, "sampled beam search ignores the seed");
    }

    private static int[] run(TableLm lm, GenerationConfig cfg) {
        return new Generator(lm, new TableLm.Tokenizer(lm.realVocab), cfg).generate(GenerationRequest.preferenceOnly(PROMPT))
                .tokenIds();
    }

    @ParameterizedTest
    @CsvSource({"11, 2", "12, 3", "13, 5"})
    void narrowBeamInABatchEqualsAloneAndStreamsItsTokens(long seed, int beams) {
        GenerationConfig beam = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(beams).maxNewTokens(6)
                .eosTokenIds(0).build();
        GenerationConfig amulet = GenerationConfig.builder().maxNewTokens(4).build();
        List<GenerationRequest> reqs = List.of(
                GenerationRequest.preferenceOnly(PROMPT).withConfig(beam),
                GenerationRequest.of(new int[] {4, 4}, new int[] {5}).withConfig(amulet),
                GenerationRequest.preferenceOnly(new int[] {7}).withConfig(beam));
        StringBuilder streamed = new StringBuilder();
        List<GenerationResult> batch = new Generator(new TableLm(10, 10, seed), new TableLm.Tokenizer(10), amulet)
                .generate(reqs, (r, id, d) -> {
                    if (r == 0) {
                        streamed.append(d);
                    }
                });
        for (int i = 0; i < reqs.size(); i++) {
            GenerationResult alone = new Generator(new TableLm(10, 10, seed), new TableLm.Tokenizer(10), amulet)
                    .generate(reqs.get(i));
            assertArrayEquals(alone.tokenIds(), batch.get(i).tokenIds(), "request " + i);
        }
        assertEquals(batch.get(0).text(), streamed.toString());
        assertTrue(batch.get(0).tokenIds().length > 0);
    }
}
