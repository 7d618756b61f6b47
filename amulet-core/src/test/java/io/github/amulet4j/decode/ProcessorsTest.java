package io.github.amulet4j.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** repetition_penalty, min_p and no_repeat_ngram_size against hand-computed rows, and the chain's order. */
class ProcessorsTest {

    static final float NINF = Float.NEGATIVE_INFINITY;

    static float[] run(HistoryProcessor p, int[] history, float... row) {
        // inside a larger array, to check the offset
        float[] block = new float[row.length + 3];
        java.util.Arrays.fill(block, 7f);
        System.arraycopy(row, 0, block, 2, row.length);
        p.process(TokenHistory.of(history, 1), block, 2, row.length);
        assertEquals(7f, block[0]);
        assertEquals(7f, block[1]);
        assertEquals(7f, block[block.length - 1]);
        return java.util.Arrays.copyOfRange(block, 2, 2 + row.length);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokensOnce() {
        int[] history = {0, 1, 1, 4, 0}; // tokens 0 and 1 twice: penalised once
        assertArrayEquals(new float[] {1.0f, -2.0f, 0.5f, 3.0f, 0.0f},
                run(new RepetitionPenalty(2.0), history, 2.0f, -1.0f, 0.5f, 3.0f, 0.0f));
        assertArrayEquals(new float[] {4.0f, -0.5f, 0.5f, 3.0f, 0.0f},
                run(new RepetitionPenalty(0.5), history, 2.0f, -1.0f, 0.5f, 3.0f, 0.0f));
        assertArrayEquals(new float[] {NINF, -1.0f}, run(new RepetitionPenalty(3.0), new int[] {0, 5}, NINF, -1.0f),
                "a masked token stays masked; ids beyond the row are ignored");
        assertThrows(IllegalArgumentException.class, () -> new RepetitionPenalty(0));
        assertThrows(IllegalArgumentException.class, () -> new RepetitionPenalty(Double.NaN));
    }

    @Test
    void minPKeepsTokensWithAtLeastMinPTimesTheTopProbability() {
        // probabilities proportional to e^2 = 7.389, e^1 = 2.718, e^0 = 1, 0, e^0.5 = 1.649;
        // min-p 0.3: threshold 0.3 * 7.389 = 2.217 keeps tokens 0 and 1
        assertArrayEquals(new float[] {2f, 1f, NINF, NINF, NINF}, run(new MinP(0.3), new int[] {0}, 2f, 1f, 0f, NINF, 0.5f));
        // min-p 0.2: threshold 1.478 keeps token 4 (1.649) too
        assertArrayEquals(new float[] {2f, 1f, NINF, NINF, 0.5f}, run(new MinP(0.2), new int[] {0}, 2f, 1f, 0f, NINF, 0.5f));
        assertArrayEquals(new float[] {2f, NINF, 2f}, run(new MinP(1.0), new int[] {0}, 2f, 1.9f, 2f), "ties with the top stay");
        assertArrayEquals(new float[] {2f, -30f}, run(new MinP(0.0), new int[] {0}, 2f, -30f), "0 is off");
        assertThrows(IllegalArgumentException.class, () -> new MinP(1.5));
        assertThrows(IllegalArgumentException.class, () -> new MinP(-0.1));
    }

    @Test
    void noRepeatNgramBansTheTokensThatWouldRepeatAnNgram() {
        float[] zeros = new float[6];
        int[] h = {5, 1, 2, 3, 5, 1, 2};
        assertArrayEquals(new float[] {0, 0, 0, NINF, 0, 0}, run(new NoRepeatNgram(4), h, zeros), "5 1 2 -> 3 seen");
        assertArrayEquals(new float[] {0, 0, 0, NINF, 0, 0}, run(new NoRepeatNgram(3), h, zeros), "1 2 -> 3 seen");
        assertArrayEquals(new float[] {0, 0, 0, NINF, 0, 0}, run(new NoRepeatNgram(2), h, zeros), "2 -> 3 seen");
        assertArrayEquals(new float[] {0, NINF, NINF, NINF, 0, NINF}, run(new NoRepeatNgram(1), h, zeros),
                "n = 1 bans every token seen");
        assertArrayEquals(new float[] {0, 0, NINF, NINF, 0, 0}, run(new NoRepeatNgram(2), new int[] {1, 2, 1, 3, 1}, zeros),
                "1 -> 2 and 1 -> 3 seen");
        assertArrayEquals(zeros, run(new NoRepeatNgram(5), h, zeros), "no 5-gram starts with 3 5 1 2");
        assertArrayEquals(zeros, run(new NoRepeatNgram(4), new int[] {5, 1}, zeros), "history shorter than n - 1");
        assertArrayEquals(new float[] {0, NINF, 0, 0, 0, 0}, run(new NoRepeatNgram(3), new int[] {1, 1, 1}, zeros));
        assertThrows(IllegalArgumentException.class, () -> new NoRepeatNgram(0));
    }

    /** Records the order of the calls and the tokens accepted. */
    static final class Recorder implements HistoryProcessor {
        final String name;
        final List<String> log;

        Recorder(String name, List<String> log) {
            this.name = name;
            this.log = log;
        }

        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
            log.add(name + history.length());
        }

        @Override
        public void accept(int token) {
            log.add(name + " accepts " + token);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @Test
    void chainRunsBuiltInsThenTheUsersBeforeTheStepAndTheUsersThenTheWarpersAfter() {
        List<String> log = new ArrayList<>();
        DecodingConfig cfg = DecodingConfig.builder().doSample(true).temperature(0.5).topK(3).topP(0.9).minP(0.1).seed(1)
                .repetitionPenalty(1.3).noRepeatNgramSize(2).build();
        DecodingChain chain = DecodingChain.of(cfg, List.of(new Recorder("B", log)), List.of(new Recorder("A", log)));
        assertEquals("DecodingChain[before step [RepetitionPenalty[1.3], NoRepeatNgram[2], B], after step [A], "
                + "SamplerChain[Temperature[0.5], TopK[3], TopP[0.9], MinP[0.1]] -> RandomDraw]", chain.toString());
        assertTrue(chain.hasBeforeStep() && chain.hasAfterStep());
        chain.beforeStep(TokenHistory.of(new int[] {1, 2}, 1), new float[] {0f, 1f, 2f}, 0, 3);
        chain.sample(TokenHistory.of(new int[] {1, 2, 3}, 1), new float[] {0f, 1f, 2f}, 0, 3,
                new java.util.SplittableRandom(1));
        chain.accept(2);
        assertEquals(List.of("B2", "A3", "B accepts 2", "A accepts 2"), log);
        DecodingChain greedy = DecodingChain.of(DecodingConfig.greedy(), List.of(), List.of());
        assertTrue(!greedy.hasBeforeStep() && !greedy.hasAfterStep(), "nothing to run by default");
        assertTrue(DecodingChain.of(DecodingConfig.builder().minP(0.5).build(), List.of(), List.of()).sampler()
                .processors().isEmpty(), "greedy skips min-p as it skips the other warpers");
    }

    @Test
    void invalidProcessorSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> DecodingConfig.builder().minP(1.1).build());
        assertThrows(IllegalArgumentException.class, () -> DecodingConfig.builder().repetitionPenalty(0).build());
        assertThrows(IllegalArgumentException.class, () -> DecodingConfig.builder().noRepeatNgramSize(-1).build());
        DecodingConfig d = DecodingConfig.builder().minP(0.2).repetitionPenalty(1.2).noRepeatNgramSize(3).build();
        assertEquals(d.toString(), d.toBuilder().build().toString());
        assertEquals(0.2, d.toBuilder().build().minP());
        assertEquals(1.2, d.toBuilder().build().repetitionPenalty());
        assertEquals(3, d.toBuilder().build().noRepeatNgramSize());
    }
}
