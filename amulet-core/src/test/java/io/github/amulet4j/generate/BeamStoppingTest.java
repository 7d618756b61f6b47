package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hugging Face's {@code early_stopping} and {@code length_penalty} on scripted next-token probabilities,
 * with the expected beams worked out by hand (natural logarithms, length = generated tokens including EOS).
 * Token 0 is EOS; {@code a}, {@code b}, {@code c} are tokens 1, 2, 3.
 */
class BeamStoppingTest {

    static final int[] PROMPT = {5};
    static final int A = 1;
    static final int B = 2;
    static final int C = 3;

    /** A table LM whose rows are log-probabilities given per generated prefix (a missing prefix: uniform). */
    static TableLm scripted(Map<String, double[]> probabilities) {
        TableLm lm = new TableLm(6, 6, 0);
        lm.script = history -> {
            int[] generated = Arrays.copyOfRange(history, PROMPT.length, history.length);
            double[] p = probabilities.getOrDefault(Arrays.toString(generated), new double[] {.2, .2, .2, .2, .1, .1});
            float[] row = new float[6];
            for (int t = 0; t < 6; t++) {
                row[t] = (float) Math.log(p[t]);
            }
            return row;
        };
        return lm;
    }

    static GenerationResult beam(TableLm lm, int beams, int maxNewTokens, double lengthPenalty, EarlyStopping stop) {
        GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(beams).maxNewTokens(maxNewTokens)
                .lengthPenalty(lengthPenalty).earlyStopping(stop).eosTokenIds(0).build();
        return new Generator(lm, new TableLm.Tokenizer(6), cfg).generate(GenerationRequest.preferenceOnly(PROMPT));
    }

    /**
     * One beam, length penalty 1, at most 4 tokens.
     * <pre>
     * step 1: EOS ln .5 = -0.693 (rank 0: hypothesis [] scores -0.693/1 = -0.693); a ln .45 = -0.799 lives.
     *   true:  1 hypothesis = numBeams: stop.                        -> []
     *   false: -0.799 / 1^1 = -0.799 <= -0.693: stop.               -> []
     *   never: -0.799 / 4^1 = -0.200 >  -0.693: go on.
     * step 2: a a = -0.799 + ln .98 = -0.819 lives (a EOS, rank 1, is not within the first numBeams);
     *   never: -0.819 / 4 = -0.205 > -0.693: go on.
     * step 3: a a EOS = -0.819 + ln .98 = -0.839: [a, a] scores -0.839/3 = -0.280 > -0.693, replaces [];
     *   a a a = -0.819 + ln .01 = -5.42 lives; never: -5.42 / 4 = -1.36 <= -0.280: stop. -> [a, a]
     * </pre>
     */
    @Test
    void oneBeamHandComputed() {
        Map<String, double[]> p = Map.of(
                "[]", new double[] {.5, .45, .05, 0, 0, 0},
                "[1]", new double[] {.01, .98, .01, 0, 0, 0},
                "[1, 1]", new double[] {.98, .01, .01, 0, 0, 0});
        TableLm whenFull = scripted(p);
        assertArrayEquals(new int[0], beam(whenFull, 1, 4, 1.0, EarlyStopping.WHEN_FULL).tokenIds());
        assertEquals(0, whenFull.appends, "stops after the first step");
        TableLm heuristic = scripted(p);
        GenerationResult h = beam(heuristic, 1, 4, 1.0, EarlyStopping.HEURISTIC);
        assertArrayEquals(new int[0], h.tokenIds());
        assertEquals(FinishReason.EOS, h.finishReason());
        assertEquals(0, heuristic.appends);
        TableLm never = scripted(p);
        GenerationResult n = beam(never, 1, 4, 1.0, EarlyStopping.NEVER);
        assertArrayEquals(new int[] {A, A}, n.tokenIds());
        assertEquals(FinishReason.EOS, n.finishReason());
        assertEquals(2, never.appends, "three steps, then the exact bound stops it before the fourth");
        // the default is Hugging Face's early_stopping=False
        assertEquals(EarlyStopping.HEURISTIC, GenerationConfig.defaults().earlyStopping());
    }

    /**
     * Two beams, length penalty 1, at most 3 tokens.
     * <pre>
     * step 1: EOS ln .4 = -0.916 (rank 0: [] scores -0.916); a ln .3 = -1.204, b ln .2 = -1.609 live.
     * step 2: b c = -1.609 + ln .8 = -1.833 (rank 0, lives); a EOS = -1.204 + ln .5 = -1.897 (rank 1 < 2:
     *         [a] scores -1.897/2 = -0.949); a a = -1.204 + ln .3 = -2.408 (rank 2, lives).
     *         Two hypotheses = numBeams; worst = -0.949.
     *   true:  stop; best is [] (-0.916 > -0.949)                             -> []
     *   false: -1.833 / 2^1 = -0.916 > -0.949: go on.
     *   never: -1.833 / 3^1 = -0.611 > -0.949: go on.
     * step 3 (the last): b c EOS = -1.833 + ln .9 = -1.938: [b, c] scores -1.938/3 = -0.646, the best. -> [b, c]
     * With length penalty 0 (scores are plain sums) the same search keeps [] (-0.916 beats -1.938).
     * </pre>
     */
    @Test
    void twoBeamsHandComputed() {
        Map<String, double[]> p = Map.of(
                "[]", new double[] {.4, .3, .2, .1, 0, 0},
                "[1]", new double[] {.5, .3, .1, .1, 0, 0},
                "[2]", new double[] {.1, .05, .05, .8, 0, 0},
                "[2, 3]", new double[] {.9, .05, .05, 0, 0, 0});
        TableLm whenFull = scripted(p);
        assertArrayEquals(new int[0], beam(whenFull, 2, 3, 1.0, EarlyStopping.WHEN_FULL).tokenIds());
        assertEquals(1, whenFull.appends, "stops after the second step");
        assertArrayEquals(new int[] {B, C}, beam(scripted(p), 2, 3, 1.0, EarlyStopping.HEURISTIC).tokenIds());
        assertArrayEquals(new int[] {B, C}, beam(scripted(p), 2, 3, 1.0, EarlyStopping.NEVER).tokenIds());
        assertArrayEquals(new int[0], beam(scripted(p), 2, 3, 0.0, EarlyStopping.NEVER).tokenIds());
    }

    /** The paper's sampled beam: seeded, and the same early stopping rules. */
    @Test
    void sampledBeamsStopByTheSameRule() {
        Map<String, double[]> p = Map.of(
                "[]", new double[] {.5, .45, .05, 0, 0, 0},
                "[1]", new double[] {.01, .98, .01, 0, 0, 0},
                "[1, 1]", new double[] {.98, .01, .01, 0, 0, 0});
        GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(1).maxNewTokens(4)
                .earlyStopping(EarlyStopping.WHEN_FULL).eosTokenIds(0)
                .decoding(DecodingConfig.builder().doSample(true).temperature(1e-3).seed(1).build()).build();
        TableLm lm = scripted(p);
        assertArrayEquals(new int[0], new Generator(lm, new TableLm.Tokenizer(6), cfg)
                .generate(GenerationRequest.preferenceOnly(PROMPT)).tokenIds());
        assertEquals(0, lm.appends);
    }

    @Test
    void earlyStoppingParsesHuggingFacesValues() {
        assertEquals(EarlyStopping.WHEN_FULL, EarlyStopping.parse("true"));
        assertEquals(EarlyStopping.HEURISTIC, EarlyStopping.parse(" False"));
        assertEquals(EarlyStopping.NEVER, EarlyStopping.parse("never"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EarlyStopping.parse("soon"));
        assertEquals("unknown early stopping 'soon'; valid: true, false, never", e.getMessage());
    }
}
