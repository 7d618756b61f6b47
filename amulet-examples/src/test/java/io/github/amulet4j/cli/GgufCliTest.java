package io.github.amulet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --model file.gguf} on the commands, and {@code models FOLDER} listing GGUF files. */
class GgufCliTest {

    @TempDir
    Path dir;

    @Test
    void generateAndPromptFromAGgufFileLikeTheFolder() throws IOException {
        Path folder = dir.resolve("tiny");
        CliRun r = CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", folder.toString());
        assertEquals(0, r.exitCode(), r::toString);
        Path gguf = dir.resolve("ggufs/tiny-qwen2-q8.gguf");
        Files.createDirectories(gguf.getParent());
        GgufModelWriter.convertFolder(folder, dir.resolve("ggufs/tiny-qwen2-f32.gguf"), GgmlType.F32);
        GgufModelWriter.convertFolder(folder, gguf, GgmlType.Q8_0);
        Files.writeString(dir.resolve("ggufs/broken.gguf"), "GGUF but not really");

        String f32 = dir.resolve("ggufs/tiny-qwen2-f32.gguf").toString();
        CliRun a = CliRun.run("generate", "--model", folder.toString(), "--preference", "concise",
                "--max-new-tokens", "6", "--json", "What is the ozone layer?");
        CliRun b = CliRun.run("generate", "--model", f32, "--preference", "concise",
                "--max-new-tokens", "6", "--json", "What is the ozone layer?");
        assertEquals(0, b.exitCode(), b::toString);
        assertEquals(JsonParser.parseString(a.out().strip()).getAsJsonObject().get("token_ids"),
                JsonParser.parseString(b.out().strip()).getAsJsonObject().get("token_ids"));
        CliRun p = CliRun.run("prompt", "--model", f32, "--preference", "concise", "What is the ozone layer?");
        assertEquals(0, p.exitCode(), p::toString);
        assertTrue(p.out().contains("<|im_start|>"), "the chat template from the GGUF metadata: " + p);
        CliRun q = CliRun.run("generate", "--model", gguf.toString(), "--max-new-tokens", "3", "--method", "base",
                "Hello");
        assertEquals(0, q.exitCode(), q::toString);

        CliRun bench = CliRun.run("bench", "--model", gguf.toString(), "--new-tokens", "3", "--prompt-tokens", "20",
                "--warmup-tokens", "0", "--methods", "pref", "--bandwidth-mib", "16", "--json");
        assertEquals(0, bench.exitCode(), bench::toString);
        assertTrue(bench.out().contains("\"pref\""), bench::toString);

        CliRun list = CliRun.run("models", dir.resolve("ggufs").toString());
        assertEquals(0, list.exitCode(), list::toString);
        assertTrue(list.out().contains("tiny-qwen2-q8.gguf") && list.out().contains("Q8_0")
                && list.out().contains("qwen2"), list::toString);
        assertTrue(list.out().contains("tiny-qwen2-f32.gguf"), list::toString);
        assertTrue(list.out().contains("broken.gguf") && list.out().contains("unreadable"), list::toString);
    }

    @Test
    void missingGgufFileIsBadUsage() {
        CliRun r = CliRun.run("generate", "--model", dir.resolve("nope.gguf").toString(), "--method", "base", "Hello");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--model") && r.err().contains("nope.gguf"), r::toString);
    }
}
