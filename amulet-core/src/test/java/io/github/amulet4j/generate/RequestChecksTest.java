package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.github.amulet4j.align.AlignmentMethod;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/** The same bad request fails the same way in {@link Generator} and {@link ContinuousBatcher}. */
class RequestChecksTest {

    static final int MODEL_VOCAB = 14;
    static final int REAL_VOCAB = 13;
    static final int MAX_POSITIONS = 8;
    static final int EOS = 0;

    private static TableLm lm() {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 5);
        lm.maxPositions = MAX_POSITIONS;
        return lm;
    }

    private static Generator generator() {
        return new Generator(lm(), new TableLm.Tokenizer(REAL_VOCAB), GenerationConfig.defaults(), EOS);
    }

    private static ContinuousBatcher batcher() {
        // room for every method's streams, so that only the shared checks can refuse a request
        return new ContinuousBatcher(lm(), new TableLm.Tokenizer(REAL_VOCAB), GenerationConfig.defaults(),
                BatchingOptions.builder().maxBatchStreams(4).build(), EOS);
    }

    private static GenerationRequest with(GenerationRequest r, AlignmentMethod m) {
        return r.withConfig(GenerationConfig.builder().method(m).numBeams(2).maxNewTokens(3).build());
    }

    private static int[] tokens(int n) {
        int[] out = new int[n];
        Arrays.fill(out, 1);
        return out;
    }

    /** A bad request and the exception both must throw for it. */
    record Bad(String name, GenerationRequest request, Class<? extends RuntimeException> type, String message) {
    }

    private static List<Bad> badRequests() {
        String tooLong = "prompt of 9 tokens exceeds the model's 8 positions";
        List<Bad> bad = new ArrayList<>();
        bad.add(new Bad("null request", null, NullPointerException.class, "request"));
        for (AlignmentMethod m : List.of(AlignmentMethod.AMULET, AlignmentMethod.LA, AlignmentMethod.PREF,
                AlignmentMethod.BEAM)) {
            bad.add(new Bad(m.id() + " without a preference prompt", with(GenerationRequest.baseOnly(tokens(2)), m),
                    IllegalArgumentException.class, "method '" + m.id() + "' needs a preference prompt"));
        }
        for (AlignmentMethod m : List.of(AlignmentMethod.AMULET, AlignmentMethod.LA, AlignmentMethod.BASE)) {
            bad.add(new Bad(m.id() + " without a base prompt", with(GenerationRequest.preferenceOnly(tokens(2)), m),
                    IllegalArgumentException.class, "method '" + m.id() + "' needs a base prompt"));
        }
        bad.add(new Bad("the default method without a base prompt", GenerationRequest.preferenceOnly(tokens(2)),
                IllegalArgumentException.class, "method 'amulet' needs a base prompt"));
        bad.add(new Bad("a missing prompt before a bad id in the other",
                with(GenerationRequest.baseOnly(new int[] {99}), AlignmentMethod.AMULET),
                IllegalArgumentException.class, "method 'amulet' needs a preference prompt"));
        bad.add(new Bad("preference prompt too long",
                with(GenerationRequest.preferenceOnly(tokens(MAX_POSITIONS + 1)), AlignmentMethod.PREF),
                PromptTooLongException.class, tooLong));
        bad.add(new Bad("base prompt too long",
                with(GenerationRequest.of(tokens(MAX_POSITIONS + 1), tokens(2)), AlignmentMethod.AMULET),
                PromptTooLongException.class, tooLong));
        bad.add(new Bad("beam prompt too long",
                with(GenerationRequest.preferenceOnly(tokens(MAX_POSITIONS + 1)), AlignmentMethod.BEAM),
                PromptTooLongException.class, tooLong));
        int[] longAndBad = tokens(MAX_POSITIONS + 1);
        longAndBad[0] = 99;
        bad.add(new Bad("length before ids", with(GenerationRequest.baseOnly(longAndBad), AlignmentMethod.BASE),
                PromptTooLongException.class, tooLong));
        bad.add(new Bad("id == model vocabulary in the base prompt",
                with(GenerationRequest.of(new int[] {1, MODEL_VOCAB}, tokens(2)), AlignmentMethod.LA),
                IllegalArgumentException.class, "prompt token id 14 is outside the model's vocabulary [0, 14)"));
        bad.add(new Bad("negative id in the preference prompt",
                with(GenerationRequest.preferenceOnly(new int[] {2, -1}), AlignmentMethod.PREF),
                IllegalArgumentException.class, "prompt token id -1 is outside the model's vocabulary [0, 14)"));
        bad.add(new Bad("preference stream checked before base stream",
                with(GenerationRequest.of(new int[] {50}, new int[] {60}), AlignmentMethod.AMULET),
                IllegalArgumentException.class, "prompt token id 60 is outside the model's vocabulary [0, 14)"));
        return bad;
    }

    private static RuntimeException thrown(Class<? extends RuntimeException> type, Executable call) {
        // catch any RuntimeException, so a wrong type is reported as a difference, not as an error
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertInstanceOf(type, e);
        return e;
    }

    @TestFactory
    Stream<DynamicTest> generatorAndBatcherRefuseTheSameRequestsAlike() {
        return badRequests().stream().map(bad -> dynamicTest(bad.name(), () -> {
            RuntimeException byGenerator = thrown(bad.type(), () -> generator().generate(bad.request()));
            RuntimeException byBatcher;
            try (ContinuousBatcher b = batcher()) {
                byBatcher = thrown(bad.type(), () -> b.submit(bad.request(), TokenListener.NONE));
                assertEquals(0, b.queuedRequests(), "a refused request is not queued");
            }
            assertEquals(byGenerator.getClass(), byBatcher.getClass(), bad.name());
            assertEquals(byGenerator.getMessage(), byBatcher.getMessage(), bad.name());
            assertEquals(bad.message(), byBatcher.getMessage(), bad.name());
            if (byGenerator instanceof PromptTooLongException g) {
                PromptTooLongException p = (PromptTooLongException) byBatcher;
                assertEquals(MAX_POSITIONS + 1, g.promptTokens());
                assertEquals(MAX_POSITIONS, g.maxPositions());
                assertEquals(g.promptTokens(), p.promptTokens());
                assertEquals(g.maxPositions(), p.maxPositions());
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> inABatchTheMessageNamesTheRequest() {
        GenerationRequest good = with(GenerationRequest.of(tokens(2), tokens(3)), AlignmentMethod.AMULET);
        return badRequests().stream().map(bad -> dynamicTest(bad.name(), () -> {
            RuntimeException alone = thrown(bad.type(), () -> generator().generate(bad.request()));
            RuntimeException inBatch = thrown(bad.type(),
                    () -> generator().generate(Arrays.asList(good, bad.request())));
            assertEquals(alone.getClass(), inBatch.getClass(), bad.name());
            String expected = bad.type() == NullPointerException.class ? "request 1" : "request 1: " + bad.message();
            assertEquals(expected, inBatch.getMessage(), bad.name());
        }));
    }

    @Test
    void theBatcherStillServesAfterRefusals() throws Exception {
        GenerationRequest good = with(GenerationRequest.of(tokens(2), tokens(3)), AlignmentMethod.AMULET);
        GenerationResult alone = generator().generate(good);
        try (ContinuousBatcher b = batcher()) {
            for (Bad bad : badRequests()) {
                assertThrows(RuntimeException.class, () -> b.submit(bad.request(), TokenListener.NONE), bad.name());
            }
            GenerationResult got = b.submit(good, TokenListener.NONE).get(10, TimeUnit.SECONDS);
            assertEquals(Arrays.toString(alone.tokenIds()), Arrays.toString(got.tokenIds()));
        }
    }

    @Test
    void theStreamLimitIsTheBatchersOwn() {
        GenerationRequest wideBeam = GenerationRequest.preferenceOnly(tokens(2))
                .withConfig(GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(6).maxNewTokens(2).build());
        assertNotNull(generator().generate(wideBeam), "a generator has no stream limit");
        try (ContinuousBatcher b = batcher()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.submit(wideBeam, TokenListener.NONE));
            assertEquals("method 'beam' needs 6 streams, more than the batch holds (4)", e.getMessage());
        }
    }
}
