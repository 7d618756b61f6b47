package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AlignmentMethod;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link GenerationStats}: counts from the steps the model really ran, times consistent with each other. */
class GenerationStatsTest {

    static final int MODEL_VOCAB = 12;
    static final int REAL_VOCAB = 10;
    static final long PREFILL_MS = 6;
    static final long APPEND_MS = 3;

    private static TableLm slowLm() {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 42);
        lm.prefillSleepMillis = PREFILL_MS;
        lm.appendSleepMillis = APPEND_MS;
        return lm;
    }

    @Test
    void batchCountsEachRequestsPromptAndDecodeStepsAndTimesThem() {
        int[] base = {3, 1, 5};
        int[] pref = {3, 1, 4, 1, 5};
        GenerationConfig.Builder cfg = GenerationConfig.builder().maxNewTokens(12);
        // an end-of-sequence id that the third request reaches after a few tokens
        int[] free = new Generator(new TableLm(MODEL_VOCAB, REAL_VOCAB, 42), new TableLm.Tokenizer(REAL_VOCAB),
                cfg.build()).generate(GenerationRequest.of(new int[] {2, 2}, new int[] {6, 7, 8})).tokenIds();
        int eos = free[3];
        int eosAt = 0;
        while (free[eosAt] != eos) {
            eosAt++;
        }
        List<GenerationRequest> requests = List.of(
                GenerationRequest.of(base, pref).withConfig(cfg.maxNewTokens(4).build()),
                GenerationRequest.preferenceOnly(new int[] {5, 6}).withConfig(
                        cfg.method(AlignmentMethod.PREF).maxNewTokens(7).build()),
                GenerationRequest.of(new int[] {2, 2}, new int[] {6, 7, 8}).withConfig(GenerationConfig.builder()
                        .maxNewTokens(12).eosTokenIds(eos).build()));
        TableLm lm = slowLm();
        List<GenerationResult> results = new Generator(lm, new TableLm.Tokenizer(REAL_VOCAB), cfg.build())
                .generate(requests);

        assertEquals(List.of(4, 7, eosAt), results.stream().map(GenerationResult::generatedTokens).toList());
        assertEquals(FinishReason.EOS, results.get(2).finishReason());
        // prompt tokens of the streams each method reads
        assertEquals(List.of(8, 2, 5), results.stream().map(r -> r.stats().promptTokens()).toList());
        // a token after the first needs one forward pass; the end-of-sequence token needs one too
        assertEquals(List.of(3, 6, eosAt), results.stream().map(r -> r.stats().decodeSteps()).toList());
        // the batch shares its passes: the model ran as many as the longest request used
        assertEquals(6, lm.appends);
        for (GenerationResult r : results) {
            checkTimes(r);
        }
    }

    @Test
    void batcherCountsFromSubmission() throws Exception {
        TableLm lm = slowLm();
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.defaults())) {
            GenerationResult r = b.submit(GenerationRequest.of(new int[] {1, 2, 3}, new int[] {4, 5, 6, 7})
                    .withConfig(GenerationConfig.builder().maxNewTokens(5).build()), TokenListener.NONE)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(5, r.generatedTokens());
            assertEquals(7, r.stats().promptTokens());
            assertEquals(4, r.stats().decodeSteps());
            assertEquals(4, lm.appends);
            checkTimes(r);
        }
    }

    @Test
    void ratesFollowFromCountsAndTimes() {
        GenerationStats s = new GenerationStats(64, 2_000_000, 3_000_000, 9, 90_000_000, 80_000_000, 93_000_000);
        assertEquals(32_000.0, s.prefillTokensPerSecond(), 1e-9);
        assertEquals(100.0, s.decodeTokensPerSecond(), 1e-9);
        assertEquals(10_000_000.0, s.nanosPerOutputToken(), 1e-9);
        assertEquals(1.0 / 9, s.outsideForwardShare(), 1e-12);
        assertTrue(Double.isNaN(GenerationStats.of(5, 0, 0).decodeTokensPerSecond()));
    }

    /** The prefill and each pass sleep a known time; the parts of a request's time nest. */
    private static void checkTimes(GenerationResult r) {
        GenerationStats s = r.stats();
        String at = r + " " + s;
        assertEquals(r.prefillNanos(), s.prefillNanos(), at);
        assertEquals(r.decodeNanos(), s.decodeNanos(), at);
        assertTrue(s.prefillNanos() >= TimeUnit.MILLISECONDS.toNanos(PREFILL_MS), at);
        assertTrue(s.decodeForwardNanos() >= s.decodeSteps() * TimeUnit.MILLISECONDS.toNanos(APPEND_MS), at);
        assertTrue(s.decodeForwardNanos() <= s.decodeNanos(), at);
        assertTrue(s.prefillNanos() <= s.timeToFirstTokenNanos(), at);
        assertTrue(s.timeToFirstTokenNanos() <= s.totalNanos(), at);
        assertTrue(s.prefillNanos() + s.decodeNanos() <= s.totalNanos(), at);
        // the first token comes before any decode pass
        assertTrue(s.timeToFirstTokenNanos() + s.decodeForwardNanos() <= s.totalNanos(), at);
    }
}
