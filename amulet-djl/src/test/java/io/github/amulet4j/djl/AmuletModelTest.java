package io.github.amulet4j.djl;


import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public facade on random checkpoints written by {@link RandomModelFolder}. */
class AmuletModelTest {

    @TempDir
    static Path dir;

    static Path qwen;

    @BeforeAll
    static void write() throws IOException {
        qwen = dir.resolve("qwen2");
        RandomModelFolder.write(qwen, RandomModelFolder.Shape.TINY_QWEN2, 7, SafetensorsDtype.F32);
    }

    @Test
    void everyTinyShapeWritesAFolderThatReadsBackAndGenerates() throws IOException {
        for (RandomModelFolder.Shape shape : RandomModelFolder.Shape.values()) {
            if (!shape.isTiny()) {
                continue;
            }
            Path folder = dir.resolve("shape-" + shape.id());
            ModelConfig written = RandomModelFolder.write(folder, shape, 1, SafetensorsDtype.F32);
            assertEquals(written, ModelConfigReader.readFolder(folder), shape.id());
            try (AmuletModel model = AmuletModel.load(folder)) {
                assertTrue(model.config().vocabSize() % 64 == 0, "padded vocabulary");
                GenerationResult r = model.generate("Hi?", Preference.of("concise"),
                        GenerationConfig.builder().maxNewTokens(3).build());
                assertTrue(r.generatedTokens() >= 1 && r.generatedTokens() <= 3, shape.id() + ": " + r);
                for (int id : r.tokenIds()) {
                    assertTrue(id < model.prompts().tokenizer().vocabularySize(), "padded rows are never chosen");
                }
            }
        }
    }

    /** Two threads generating on one model (two product threads) get what each gets alone: calls are serialized. */
    @Test
    void concurrentGenerateCallsOnOneModelAreSerialized() throws Exception {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(6).build();
        List<String> questions = List.of("What is rain?", "Tell me about cats.", "Why is the sky blue?", "Hi!");
        try (AmuletModel model = AmuletModel.load(ModelOptions.builder().model(qwen).runtime(r -> r.productThreads(2)).build())) {
            List<int[]> alone = new ArrayList<>();
            for (String q : questions) {
                alone.add(model.generate(q, Preference.of("concise"), config).tokenIds());
            }
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
                List<java.util.concurrent.Future<List<int[]>>> runs = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    runs.add(pool.submit(() -> {
                        start.await();
                        List<int[]> out = new ArrayList<>();
                        for (int round = 0; round < 3; round++) {
                            for (String q : questions) {
                                out.add(model.generate(q, Preference.of("concise"), config).tokenIds());
                            }
                        }
                        return out;
                    }));
                }
                for (java.util.concurrent.Future<List<int[]>> f : runs) {
                    List<int[]> got = f.get(120, java.util.concurrent.TimeUnit.SECONDS);
                    for (int i = 0; i < got.size(); i++) {
                        assertArrayEquals(alone.get(i % questions.size()), got.get(i), "call " + i);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aBatchOfRequestsWithOwnPreferencesAndMethodsEqualsEachAlone() throws IOException {
        GenerationConfig amulet = GenerationConfig.builder().maxNewTokens(5).build();
        List<AmuletRequest> requests = List.of(
                AmuletRequest.builder("What is rain?").preference("concise").config(amulet).build(),
                AmuletRequest.builder("Tell me about cats and dogs.").preference("creative")
                        .config(amulet.toBuilder().method(AlignmentMethod.LA).build()).build(),
                AmuletRequest.builder(Conversation.of("Hello").withSystem("Be kind.")).preference("Speak like a poet.")
                        .promptStyle(PromptStyle.PAPER).config(amulet.toBuilder().method(AlignmentMethod.PREF).build()).build(),
                AmuletRequest.builder("Why?").config(amulet.toBuilder().method(AlignmentMethod.BASE).build()).build());
        try (AmuletModel model = AmuletModel.load(ModelOptions.of(qwen))) {
            List<GenerationResult> batch = model.generate(requests);
            List<GenerationResult> single = new ArrayList<>();
            for (AmuletRequest r : requests) {
                single.add(model.generate(List.of(r)).get(0));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertArrayEquals(single.get(i).tokenIds(), batch.get(i).tokenIds(), "request " + i);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    AmuletRequest.builder("Why?").config(amulet).build(), (a, b, c) -> { }));
            assertTrue(e.getMessage().contains("needs a preference"), e.getMessage());
        }
    }

    @Test
    void promptsNeedNoWeightsAndKeepTheHistoryInBothStreams() throws IOException {
        Path noWeights = dir.resolve("no-weights");
        Files.createDirectories(noWeights);
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(qwen.resolve(f), noWeights.resolve(f));
        }
        Conversation chat = Conversation.of("First question").plus(ChatMessage.assistant("First answer"))
                .plus(ChatMessage.user("Second question"));
        try (PromptRenderer renderer = PromptRenderer.load(noWeights);
             HfTokenizer tokenizer = HfTokenizer.load(noWeights)) {
            PromptPair p = renderer.render(chat, Preference.of("concise"), PromptStyle.DEFAULT);
            for (TokenizedPrompt stream : List.of(p.base(), p.preference())) {
                assertTrue(stream.text().contains("First answer") && stream.text().contains("Second question"));
                assertArrayEquals(tokenizer.encodePrompt(stream.text(), false), stream.tokenIds());
                assertEquals(stream.text(), tokenizer.decode(stream.tokenIds(), false));
            }
            assertTrue(p.preference().text().contains(Preference.of("concise").text()));
            assertTrue(!p.base().text().contains(Preference.of("concise").text()));
            // EOS: <|im_end|> and <|endoftext|> from generation_config.json / config.json
            assertEquals(2, renderer.eosTokenIds().size(), renderer.eosTokenIds().toString());
        }
    }

    @Test
    void aMissingFolderIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AmuletModel.load(dir.resolve("absent")));
        assertTrue(e.getMessage().contains("absent") && e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(ModelLocator.isHubId("Qwen/Qwen2.5-0.5B-Instruct"));
        assertTrue(ModelLocator.isLocalPath("./models/qwen"));
        assertTrue(ModelLocator.isLocalPath(dir.toString()));
    }

    @Test
    void aConversationIsTrimmedToTheContextAndALongSingleTurnIsANamedError() throws IOException {
        try (AmuletModel model = AmuletModel.load(qwen)) {
            int context = model.maxPositions();
            GenerationConfig config = GenerationConfig.builder().maxNewTokens(20).build();
            Preference preference = Preference.of("concise");
            String turn = "Tell me more about the ozone layer and the ways it protects us from the sun today. ";
            Conversation c = Conversation.empty().withSystem("Be brief.");
            for (int i = 0; i < 12; i++) {
                c = c.plus(ChatMessage.user(i + " " + turn)).plus(ChatMessage.assistant("Answer " + i + " " + turn));
            }
            c = c.plus(ChatMessage.user("last " + turn));
            AmuletRequest request = AmuletRequest.builder(c).preference(preference).config(config).build();
            int before = model.prompts().render(c, preference, PromptStyle.DEFAULT).preference().length();
            assertTrue(before > context, "the test conversation must outgrow the context: " + before);

            Conversation fitted = model.fitToContext(request);
            int budget = context - 20;
            int after = model.prompts().render(fitted, preference, PromptStyle.DEFAULT).preference().length();
            assertTrue(after <= budget, after + " tokens > budget " + budget);
            // as few turns dropped as possible: one more exchange would not fit
            List<ChatMessage> turns = c.turns();
            int kept = fitted.turns().size();
            Conversation oneMore = Conversation.of("Be brief.", turns.subList(turns.size() - kept - 2, turns.size()));
            assertTrue(model.prompts().render(oneMore, preference, PromptStyle.DEFAULT).preference().length() > budget);
            assertEquals(turns.subList(turns.size() - kept, turns.size()), fitted.turns(), "the newest turns are kept");
            assertEquals("Be brief.", fitted.system().orElseThrow());
            GenerationResult r = model.generate(fitted, preference, config, (i, id, d) -> { });
            assertTrue(r.generatedTokens() >= 1);

            Conversation huge = Conversation.of(turn.repeat(40));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.fitToContext(
                    AmuletRequest.builder(huge).preference(preference).config(config).build()));
            assertTrue(e.getMessage().contains(context + " positions") && e.getMessage().contains("20 of them")
                    && e.getMessage().matches("(?s).*the prompt takes \\d+ tokens.*"), e.getMessage());
        }
    }

    @Test
    void streamedTextEqualsTheFinalTextAndTheWholeDecode() throws IOException {
        // random weights pick arbitrary byte tokens: multi-byte characters split across tokens occur
        try (AmuletModel model = AmuletModel.load(qwen)) {
            GenerationConfig config = GenerationConfig.builder().maxNewTokens(80)
                    .decoding(io.github.amulet4j.decode.DecodingConfig.builder().greedy(false).temperature(1.5)
                            .seed(3).build()).build();
            for (AlignmentMethod m : List.of(AlignmentMethod.AMULET, AlignmentMethod.BEAM)) {
                GenerationConfig cfg = m == AlignmentMethod.BEAM
                        ? GenerationConfig.builder().method(AlignmentMethod.BEAM).maxNewTokens(30).build() : config;
                StringBuilder streamed = new StringBuilder();
                GenerationResult r = model.generate(Conversation.of("Hi?"), Preference.of("concise"), cfg,
                        (i, id, d) -> streamed.append(d));
                assertEquals(r.text(), streamed.toString(), m.id());
                assertEquals(model.prompts().tokenizer().decode(r.tokenIds()), r.text(), m.id());
            }
        }
    }
}
