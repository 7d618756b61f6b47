package io.github.amulet4j.djl;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.transformer.PromptCache;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prompt cache through {@link AmuletModel#generate}: a multi-turn conversation gives the same greedy tokens as a
 * model without a cache, each later turn reuses the turns before it ({@link
 * io.github.amulet4j.generate.GenerationStats#promptTokensReused()}), and a change of preference reuses the base
 * stream.
 */
class PromptCacheThroughAmuletModelTest {

    @TempDir
    static Path dir;

    static Path qwen;

    @BeforeAll
    static void write() throws IOException {
        qwen = dir.resolve("qwen2");
        RandomModelFolder.write(qwen, RandomModelFolder.Shape.TINY_QWEN2, 13, SafetensorsDtype.F32);
    }

    @Test
    void turnsReuseEarlierTurnsAndAnswerAsWithoutACache() throws IOException {
        GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(6).build();
        try (AmuletModel cached = AmuletModel.load(ModelOptions.builder().model(qwen).promptCacheMib(64).build());
             AmuletModel plain = AmuletModel.load(ModelOptions.builder().model(qwen).promptCacheMib(0).build())) {
            assertFalse(plain.promptCacheStats().isPresent());
            Conversation conversation = Conversation.of("You are a helpful assistant.", java.util.List.of());
            String[] questions = {"Why is the sky blue?", "And at sunset?", "Say it in one line."};
            for (int turn = 0; turn < questions.length; turn++) {
                conversation = conversation.plus(ChatMessage.user(questions[turn]));
                AmuletRequest request = AmuletRequest.builder(conversation).preference("concise").config(cfg).build();
                GenerationResult got = cached.generate(request, TokenListener.NONE);
                GenerationResult want = plain.generate(request, TokenListener.NONE);
                assertArrayEquals(want.tokenIds(), got.tokenIds(), "turn " + turn);
                assertEquals(want.stats().promptTokens(), got.stats().promptTokens());
                assertEquals(0, want.stats().promptTokensReused());
                if (turn > 0) {
                    // both streams reuse at least the previous turn's prompt
                    assertTrue(got.stats().promptTokensReused() > got.stats().promptTokens() / 2,
                            "turn " + turn + ": " + got.stats());
                }
                conversation = conversation.plus(ChatMessage.assistant(got.text()));
            }
            // another preference over the same history: the base stream is reused whole (all but its last two tokens)
            AmuletRequest formal = AmuletRequest.builder(conversation.plus(ChatMessage.user("Thanks.")))
                    .preference("formal").config(cfg).build();
            GenerationResult got = cached.generate(formal, TokenListener.NONE);
            GenerationResult want = plain.generate(formal, TokenListener.NONE);
            assertArrayEquals(want.tokenIds(), got.tokenIds(), "preference changed");
            AmuletRequest baseOnly = AmuletRequest.builder(conversation.plus(ChatMessage.user("Thanks.")))
                    .config(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(1).build()).build();
            GenerationResult base = cached.generate(baseOnly, TokenListener.NONE);
            assertEquals(base.stats().promptTokens() - PromptCache.LEFT_TO_RUN, base.stats().promptTokensReused(),
                    base.stats().toString());
            PromptCache.Stats stats = cached.promptCacheStats().orElseThrow();
            assertTrue(stats.hits() > 0 && stats.tokensReused() > 0 && stats.bytesHeld() > 0, stats.toString());
            assertTrue(stats.bytesHeld() <= 64L << 20, stats.toString());
        }
    }

    /**
     * Six conversations of three turns with one system prompt, each turn submitted concurrently to a batcher (long
     * prompts prefilled whole, or in chunks of 7 tokens that start after the cached prefix): the same greedy tokens
     * as a model without a cache, one request at a time, and later turns reuse their history.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "prefill tokens per step {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2048, 7})
    void concurrentConversationsWithASharedSystemPromptAnswerAsWithoutACache(int prefillTokensPerStep)
            throws Exception {
        GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(4).build();
        int n = 6;
        try (AmuletModel cached = AmuletModel.load(ModelOptions.builder().model(qwen).promptCacheMib(64).build());
             AmuletModel plain = AmuletModel.load(ModelOptions.builder().model(qwen).promptCacheMib(0).build());
             AmuletBatcher batcher = cached.batcher(io.github.amulet4j.generate.BatchingOptions.builder()
                     .maxBatchStreams(8).maxQueue(n).prefillTokensPerStep(prefillTokensPerStep).build())) {
            java.util.List<Conversation> conversations = new java.util.ArrayList<>();
            for (int k = 0; k < n; k++) {
                conversations.add(Conversation.of("You are a helpful assistant who answers briefly.",
                        java.util.List.of()));
            }
            for (int turn = 0; turn < 3; turn++) {
                java.util.List<AmuletRequest> requests = new java.util.ArrayList<>();
                java.util.List<java.util.concurrent.CompletableFuture<GenerationResult>> futures =
                        new java.util.ArrayList<>();
                for (int k = 0; k < n; k++) {
                    Conversation c = conversations.get(k).plus(ChatMessage.user("User " + k + ", turn " + turn
                            + ": tell me about " + "the sea ".repeat(1 + k % 3)));
                    AmuletRequest r = AmuletRequest.builder(c).preference(k % 2 == 0 ? "concise" : "formal")
                            .config(cfg).build();
                    requests.add(r);
                    futures.add(batcher.submit(r, TokenListener.NONE));
                }
                for (int k = 0; k < n; k++) {
                    GenerationResult got = futures.get(k).get(60, java.util.concurrent.TimeUnit.SECONDS);
                    GenerationResult want = plain.generate(requests.get(k), TokenListener.NONE);
                    assertArrayEquals(want.tokenIds(), got.tokenIds(), "conversation " + k + " turn " + turn);
                    if (turn > 0) {
                        assertTrue(got.stats().promptTokensReused() > got.stats().promptTokens() / 2,
                                "conversation " + k + " turn " + turn + ": " + got.stats());
                    }
                    conversations.set(k, requests.get(k).conversation().plus(ChatMessage.assistant(got.text())));
                }
            }
            PromptCache.Stats stats = cached.promptCacheStats().orElseThrow();
            assertTrue(stats.hits() > 0 && stats.bytesHeld() <= 64L << 20, stats.toString());
        }
    }
}
