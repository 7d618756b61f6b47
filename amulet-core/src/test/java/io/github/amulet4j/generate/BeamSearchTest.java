package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    @ParameterizedTest
    @CsvSource({"1, 3, 1.0", "2, 3, 1.0", "3, 3, 0.0", "4, 3, 2.0", "5, 4, -0.5", "6, 4, 1.0"})
    void wideBeamEqualsExhaustiveSearch(long seed, int maxLen, double lengthPenalty) {
        TableLm lm = new TableLm(4, 4, seed);
        GenerationConfig cfg = GenerationConfig.builder().method(Method.BEAM).numBeams(128).maxNewTokens(maxLen)
                .lengthPenalty(lengthPenalty).eosTokenIds(0).build();
        GenerationResult res = new Generator(lm, new TableLm.Tokenizer(4), cfg)
                .generate(GenerationRequest.preferenceOnly(PROMPT));
        Best best = bruteForce(lm, maxLen, lengthPenalty);
        assertArrayEquals(best.ids(), res.tokenIds(), "best score " + best.score());
        assertEquals(res.tokenIds().length < maxLen || !(res.finishReason() == FinishReason.MAX_NEW_TOKENS),
                res.finishReason() == FinishReason.EOS);
        assertFalse(lm.selects.isEmpty(), "beam search must reorder caches with select");
    }

    @ParameterizedTest
    @CsvSource({"11, 2", "12, 3", "13, 5"})
    void narrowBeamInABatchEqualsAloneAndStreamsItsTokens(long seed, int beams) {
        GenerationConfig beam = GenerationConfig.builder().method(Method.BEAM).numBeams(beams).maxNewTokens(6)
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
