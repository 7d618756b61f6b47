package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.generate.FinishReason;
import io.github.amulet4j.generate.GenerationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14: compare at any width, options only where used, preset typos, plain progress, chat commands. */
class CommandLineRoughEdgesTest {

    @TempDir
    static Path dir;

    static Path model;

    @BeforeAll
    static void setUp() {
        model = dir.resolve("tiny");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
    }

    private static CompareCommand.Answer answer(AlignmentMethod m, String text, int tokens) {
        GenerationResult r = new GenerationResult(new int[tokens], text, FinishReason.MAX_NEW_TOKENS, 5, 7, 0, 0);
        return new CompareCommand.Answer(m, r, 1_000_000_000L);
    }

    private static List<CompareCommand.Answer> fiveAnswers() {
        List<CompareCommand.Answer> answers = new ArrayList<>();
        String text = "The ozone layer is a belt of ozone gas in the stratosphere that absorbs most ultraviolet light.";
        for (AlignmentMethod m : List.of(AlignmentMethod.BASE, AlignmentMethod.PREF, AlignmentMethod.LA, AlignmentMethod.AMULET, AlignmentMethod.BEAM)) {
            answers.add(answer(m, text, 123456));
        }
        return answers;
    }

    @Test
    void compareTableFitsEveryWidth() {
        for (int width = CompareCommand.MIN_WIDTH; width <= 200; width += 7) {
            for (int n = 1; n <= 5; n++) {
                List<CompareCommand.Answer> answers = fiveAnswers().subList(0, n);
                String table = CompareCommand.table(answers, width);
                for (String line : table.split("\\R")) {
                    assertTrue(line.length() <= width, "width " + width + ", " + n + " methods: '" + line + "'");
                }
                for (CompareCommand.Answer a : answers) {
                    assertTrue(table.contains(a.method().id()), table);
                }
                assertTrue(table.contains("ultraviolet"), table);
            }
        }
        // five methods at 80 columns do not fit side by side: stacked, each answer whole
        String stacked = CompareCommand.table(fiveAnswers(), 80);
        assertTrue(stacked.lines().anyMatch(l -> l.equals("amulet")), stacked);
        assertFalse(stacked.contains(" | "), stacked);
        // two fit side by side
        assertTrue(CompareCommand.table(fiveAnswers().subList(0, 2), 80).contains(" | "));
    }

    @Test
    void compareChecksItsArgumentsBeforeLoadingTheModel() {
        CliRun r = CliRun.run("compare", "--model", model.toString(), "--preference", "concise", "--width", "10", "Why?");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--width: must be at least 20"), r::toString);
        assertFalse(r.err().contains("compare: base..."), "refused before generating: " + r);
        CliRun ok = CliRun.run("compare", "--model", model.toString(), "--preference", "concise", "--width", "30",
                "--methods", "base,pref,la,amulet", "--max-new-tokens", "4", "Why?");
        assertEquals(0, ok.exitCode(), ok::toString);
        assertTrue(ok.out().lines().allMatch(l -> l.length() <= 30), ok::toString);
    }

    @Test
    void eachCommandOffersOnlyTheOptionsItUses() {
        for (String[] args : List.of(
                new String[] {"eval", "--method", "amulet", "--dataset", "q.json"},
                new String[] {"compare", "--method", "amulet", "Why?"},
                new String[] {"prompt", "--max-new-tokens", "0", "Why?"},
                new String[] {"prompt", "--temperature", "-1", "Why?"},
                new String[] {"prompt", "--device", "gpu", "Why?"})) {
            CliRun r = CliRun.run(args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r);
            assertTrue(r.err().matches("(?s).*Unknown options?: '" + args[1] + "'.*"), r::toString);
        }
        CliRun help = CliRun.run("prompt", "--help");
        assertFalse(help.out().contains("--temperature") || help.out().contains("--device"), help::toString);
        assertTrue(help.out().contains("--preference") && help.out().contains("--prompt-style"), help::toString);
    }

    @Test
    void misspeltPresetIsRefusedWithASuggestion() {
        CliRun typo = CliRun.run("prompt", "--model", model.toString(), "--preference", "consise", "Why?");
        assertEquals(2, typo.exitCode(), typo::toString);
        assertTrue(typo.err().contains("--preference: unknown preset 'consise'; did you mean 'concise'?"), typo::toString);
        CliRun forced = CliRun.run("prompt", "--model", model.toString(), "--preference-text", "consise", "--json", "Why?");
        assertEquals(0, forced.exitCode(), forced::toString);
        assertTrue(forced.out().contains("consise"), forced::toString);
        CliRun free = CliRun.run("prompt", "--model", model.toString(), "--preference", "be consise", "--json", "Why?");
        assertEquals(0, free.exitCode(), free::toString);
        CliRun chat = CliRun.runWithInput("/pref consise\n/pref\n/exit\n", "chat", "--model", model.toString(),
                "--max-new-tokens", "2");
        assertEquals(0, chat.exitCode(), chat::toString);
        assertTrue(chat.out().contains("did you mean 'concise'?"), chat::toString);
        assertTrue(chat.out().contains("(preference: (none))"), "the typo did not become the preference: " + chat);
    }

    @Test
    void blankQuestionsAreUsageErrors() {
        CliRun r = CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "  ");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("QUESTION is empty"), r::toString);
        CliRun p = CliRun.run("prompt", "--model", model.toString(), "--preference", "concise", "");
        assertEquals(2, p.exitCode(), p::toString);
    }

    @Test
    void chatShowsTheMethodAndSavesTheConversation() throws IOException {
        Path saved = dir.resolve("chat.json");
        CliRun c = CliRun.runWithInput(String.join("\n", "/method", "Hello", "/save " + saved, "/exit", ""),
                "chat", "--model", model.toString(), "--preference", "concise", "--method", "la",
                "--max-new-tokens", "3");
        assertEquals(0, c.exitCode(), c::toString);
        assertTrue(c.out().contains("(method: la)"), c::toString);
        JsonObject o = JsonParser.parseString(Files.readString(saved)).getAsJsonObject();
        assertEquals("la", o.get("method").getAsString());
        assertEquals(2, o.getAsJsonArray("messages").size(), o.toString());
        assertEquals("Hello", o.getAsJsonArray("messages").get(0).getAsJsonObject().get("content").getAsString());
        assertEquals("assistant", o.getAsJsonArray("messages").get(1).getAsJsonObject().get("role").getAsString());
    }

    @Test
    void plainProgressWritesLinesWithoutColoursAndOneClosingLine() {
        StringWriter sw = new StringWriter();
        Progress p = Progress.of("eval", " rows", 1, 10, 2, false, false, new PrintWriter(sw), Duration.ofHours(1));
        for (int i = 0; i < 8; i++) {
            p.step();
        }
        p.close();
        p.close();
        String out = sw.toString();
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("eval: 10/10 rows (100%)"), out);
        assertFalse(out.contains("\u001b") || out.contains("\u2588"), "no ANSI codes or bar glyphs: " + out);

        StringWriter mib = new StringWriter();
        Progress d = Progress.of("download: model.safetensors", " MiB", 1 << 20, 4L << 20, 0, false, false,
                new PrintWriter(mib), Duration.ZERO);
        d.stepTo(1L << 20);
        d.close();
        List<String> lines = mib.toString().lines().toList();
        assertEquals(1, lines.size(), "the closing line is not repeated: " + lines);
        assertTrue(lines.get(0).startsWith("download: model.safetensors: 1.0/4.0 MiB (25%)"), lines.toString());
    }

    @Test
    void errorsAreInTheUsersWords() throws IOException {
        assertEquals("--max-new-tokens must be >= 1, got 0", Options.inUserWords("maxNewTokens must be >= 1, got 0"));
        assertEquals("--top-p must be in (0, 1], got 2.0; --beams must be >= 1",
                Options.inUserWords("topP must be in (0, 1], got 2.0; numBeams must be >= 1"));
        assertEquals("no GPU is visible; install the CUDA natives, or use --device cpu",
                Options.inUserWords("no GPU is visible; install the CUDA natives, or use Device.cpu()"));
        assertEquals("the beta of --eta; --top-k", Options.inUserWords("the beta of eta; --top-k"));
        assertEquals("cannot write results: permission denied: ro/r.jsonl", AmuletCli.describe(
                new IOException("cannot write results", new java.nio.file.AccessDeniedException("ro/r.jsonl"))));
        assertEquals("no such file or folder: q.json",
                AmuletCli.describe(new java.nio.file.NoSuchFileException("q.json")));

        Path csv = dir.resolve("questions.csv");
        Files.writeString(csv, "index,question\n0,Why?\n");
        CliRun r = CliRun.run("eval", "--model", model.toString(), "--dataset", csv.toString(), "--preferences",
                "concise", "--out", dir.resolve("csv.jsonl").toString());
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
        assertTrue(r.err().contains(csv + " is not valid JSON (syntax error at line 1, column "), r::toString);
        assertTrue(r.err().contains("(CSV is not read)"), r::toString);
        assertFalse(r.err().contains("gson") || r.err().contains("JsonReader") || r.err().contains("http"), r::toString);
    }
}
