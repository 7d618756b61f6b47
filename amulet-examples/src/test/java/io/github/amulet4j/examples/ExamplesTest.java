package io.github.amulet4j.examples;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The three example programs, run on a tiny random model folder, print what the library gives for the same
 * requests (batched against one by one for {@link BatchExample}).
 */
class ExamplesTest {

    @TempDir
    static Path dir;

    static Path model;

    @BeforeAll
    static void writeModel() throws IOException {
        model = dir.resolve("tiny-llama");
        RandomModelFolder.write(model, RandomModelFolder.Shape.TINY_LLAMA, 3, SafetensorsDtype.F32);
    }

    /** Runs {@code main} with System.out captured. */
    interface Main {
        void run(String[] args) throws Exception;
    }

    static synchronized String stdout(Main main, String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            main.run(args);
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void quickStartPrintsTheAnswerAndItsLength() throws Exception {
        String out = stdout(QuickStart::main, model.toString());
        try (AmuletModel m = AmuletModel.load(model)) {
            GenerationResult r = m.generate("What is the ozone layer?", Preference.of("concise"),
                    GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(64).build());
            String n = System.lineSeparator();
            assertEquals(r.text() + n + "(" + r.generatedTokens() + " tokens, " + r.finishReason() + ")" + n, out);
        }
    }

    @Test
    void streamingExamplePrintsTheStreamedAnswer() throws Exception {
        String out = stdout(StreamingExample::main, model.toString());
        try (AmuletModel m = AmuletModel.load(model)) {
            GenerationResult r = m.generate(Conversation.of("Explain how vaccines work.").withSystem("You are a science teacher."),
                    Preference.of("Explain it to a ten-year-old."), GenerationConfig.builder().maxNewTokens(96).build(),
                    TokenListener.NONE);
            assertEquals(r.text() + System.lineSeparator(), out);
        }
    }

    @Test
    void batchExamplePrintsWhatEachRequestGivesAlone() throws Exception {
        String out = stdout(BatchExample::main, model.toString());
        String question = "How can I sleep better?";
        GenerationConfig amulet = GenerationConfig.builder().maxNewTokens(48).build();
        StringBuilder want = new StringBuilder();
        String n = System.lineSeparator();
        try (AmuletModel m = AmuletModel.load(model)) {
            for (String[] pref : new String[][] {{"concise", "amulet"}, {"creative", "amulet"},
                {"Answer like a pirate.", "amulet"}, {"formal", "la"}}) {
                GenerationConfig c = pref[1].equals("la") ? amulet.toBuilder().method(AlignmentMethod.LA).build() : amulet;
                AmuletRequest alone = AmuletRequest.builder(question).preference(pref[0]).config(c).build();
                want.append("--- ").append(alone.preference().orElseThrow().text()).append(n)
                        .append(m.generate(alone, TokenListener.NONE).text()).append(n);
            }
        }
        assertEquals(want.toString(), out);
    }
}
