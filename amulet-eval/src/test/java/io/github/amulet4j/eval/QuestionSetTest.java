package io.github.amulet4j.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuestionSetTest {

    @Test
    void readsThePapersFormat(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("q.json");
        Files.writeString(f, "[{\"index\":0,\"question\":\"Why?\"},{\"index\":7,\"question\":\"How?\",\"extra\":1}]");
        assertEquals(List.of(new Question(0, "Why?"), new Question(7, "How?")), QuestionSet.read(f));
    }

    @Test
    void wrongFormatsNameTheFileAndTheEntry(@TempDir Path dir) throws IOException {
        assertMessage(dir, "{\"index\":0}", "expected a JSON array");
        assertMessage(dir, "[{\"index\":0,\"question\":\"a\"}, 3]", "entry 1");
        assertMessage(dir, "[{\"question\":\"a\"}]", "\"index\" must be an integer");
        assertMessage(dir, "[{\"index\":1.5,\"question\":\"a\"}]", "\"index\" must be an integer");
        assertMessage(dir, "[{\"index\":0,\"question\":5}]", "\"question\" must be a string");
        assertMessage(dir, "[{\"index\":0,\"question\":\"a\"},{\"index\":0,\"question\":\"b\"}]", "duplicate index 0");
        assertMessage(dir, "[{\"index\":0,", "not valid JSON");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuestionSet.read(dir.resolve("absent.json")));
        assertTrue(e.getMessage().contains("absent.json"), e.getMessage());
    }

    private static void assertMessage(Path dir, String content, String expected) throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuestionSet.read(f));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("bad.json"), e.getMessage());
    }
}
