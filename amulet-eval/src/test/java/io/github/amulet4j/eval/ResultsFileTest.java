package io.github.amulet4j.eval;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultsFileTest {

    static JsonObject row(int index, String method, String preference, String text) {
        JsonObject o = new JsonObject();
        o.addProperty("index", index);
        o.addProperty("method", method);
        o.addProperty("preference", preference);
        o.addProperty("text", text);
        o.addProperty("new_tokens", 3);
        o.addProperty("seconds", 0.5);
        return o;
    }

    @Test
    void newFileIsEmptyAndRowsAreWholeLines(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("sub/results.jsonl");
        try (ResultsFile file = ResultsFile.open(out)) {
            assertTrue(file.doneKeys().isEmpty());
            file.append(row(0, "amulet", "concise", "line\nbreak \"quoted\" <html>"));
            file.append(row(1, "base", "concise", "b"));
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(2, lines.size());
        JsonObject first = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        assertEquals("line\nbreak \"quoted\" <html>", first.get("text").getAsString());
        assertTrue(lines.get(0).contains("<html>"), "no HTML escaping in the output");
    }

    @Test
    void reopeningCutsAPartialLastLineAndKeepsTheWholeOnes(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("results.jsonl");
        String whole = "{\"index\":0,\"method\":\"amulet\",\"preference\":\"concise\",\"text\":\"a\"}\n"
                + "{\"index\":1,\"method\":\"amulet\",\"preference\":\"concise\",\"text\":\"b\"}\n";
        String partial = "{\"index\":2,\"method\":\"amu";
        Files.writeString(out, whole + partial, StandardCharsets.UTF_8);
        try (ResultsFile file = ResultsFile.open(out)) {
            assertEquals(Set.of(new RowKey(0, "amulet", "concise"), new RowKey(1, "amulet", "concise")), file.doneKeys());
            assertEquals(partial.getBytes(StandardCharsets.UTF_8).length, file.truncatedBytes());
            assertEquals(whole, Files.readString(out), "the partial line is cut off on open");
            file.append(row(2, "amulet", "concise", "c"));
        }
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        for (String line : lines) {
            JsonParser.parseString(line).getAsJsonObject();
        }
    }

    @Test
    void duplicateKeysInTheFileCountOnce(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("results.jsonl");
        String line = "{\"index\":0,\"method\":\"amulet\",\"preference\":\"concise\",\"text\":\"a\"}\n";
        Files.writeString(out, line + line);
        try (ResultsFile file = ResultsFile.open(out)) {
            assertEquals(1, file.existingRows().size());
        }
    }

    @Test
    void aFileThatIsNotResultsIsRejectedWithTheLine(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("notes.txt");
        Files.writeString(out, "{\"index\":0,\"method\":\"a\",\"preference\":\"p\"}\nhello world\nmore\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResultsFile.open(out));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Path noKey = dir.resolve("nokey.jsonl");
        Files.writeString(noKey, "{\"index\":0}\n");
        e = assertThrows(IllegalArgumentException.class, () -> ResultsFile.open(noKey));
        assertTrue(e.getMessage().contains("\"method\""), e.getMessage());
    }

    @Test
    void appendAfterCloseFailsSoAShutdownHookCanStopTheRun(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("results.jsonl");
        ResultsFile file = ResultsFile.open(out);
        file.append(row(0, "base", "concise", "a"));
        file.close();
        file.close();
        assertTrue(file.isClosed());
        assertThrows(IllegalStateException.class, () -> file.append(row(1, "base", "concise", "b")));
        assertEquals(1, Files.readAllLines(out).size());
    }
}
