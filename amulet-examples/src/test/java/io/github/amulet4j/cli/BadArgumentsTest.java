package io.github.amulet4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad arguments give exit code 2 (bad usage) and one clear line naming what is wrong. */
class BadArgumentsTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path dataset;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-gpt2", "--out", model.toString()).exitCode());
        dataset = dir.resolve("q.json");
        Files.writeString(dataset, "[{\"index\": 0, \"question\": \"Why?\"}]");
    }

    private static void assertUsage(CliRun r, String expected) {
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains(expected), "stderr should name '" + expected + "': " + r);
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r);
        assertFalse(r.err().contains("\tat "), r::toString);
    }

    @Test
    void unknownPresetInEval() {
        assertUsage(CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(), "--preferences",
                "concise,grumpy", "--out", dir.resolve("r1.jsonl").toString()), "unknown preset 'grumpy'");
        assertFalse(Files.exists(dir.resolve("r1.jsonl")), "nothing written on bad usage");
    }

    @Test
    void unknownMethod() {
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--method", "greedy", "--preference", "concise",
                "Why?"), "unknown method 'greedy'");
        assertUsage(CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(), "--methods",
                "base,best", "--preferences", "concise", "--out", dir.resolve("r2.jsonl").toString()), "unknown method 'best'");
    }

    @Test
    void negativeProductThreads() {
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--product-threads", "-2", "--preference",
                "concise", "Why?"), "--product-threads: productThreads must be in [0, 256]");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--linear-kernel", "gpu", "--preference",
                "concise", "Why?"), "--linear-kernel: unknown linear kernel 'gpu'; valid: auto, engine, java");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--prefill-chunk", "0", "--preference",
                "concise", "Why?"), "--prefill-chunk: prefillChunk must be >= 1");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--kernels", "gpu", "--preference",
                "concise", "Why?"), "--kernels: unknown kernels 'gpu'; valid: auto, java, native");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--kv-cache", "f8", "--preference",
                "concise", "Why?"), "--kv-cache: unknown KV cache precision 'f8'; valid: f32, f16");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--prompt-cache-mib", "-1", "--preference",
                "concise", "Why?"), "--prompt-cache-mib: promptCacheMib must be in [0, 1048576]");
    }

    @Test
    void missingModelFolder() {
        Path absent = dir.resolve("no-such-model");
        assertUsage(CliRun.run("generate", "--model", absent.toString(), "--preference", "concise", "Why?"),
                "does not exist");
        assertUsage(CliRun.run("prompt", "--model", absent.toString(), "--preference", "concise", "Why?"),
                absent.toString());
    }

    @Test
    void datasetInTheWrongFormat() throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"questions\": [\"Why?\"]}");
        assertUsage(CliRun.run("eval", "--model", model.toString(), "--dataset", bad.toString(), "--preferences",
                "concise", "--out", dir.resolve("r3.jsonl").toString()), "expected a JSON array");
        Path noQuestion = dir.resolve("noq.json");
        Files.writeString(noQuestion, "[{\"index\": 0, \"prompt\": \"Why?\"}]");
        assertUsage(CliRun.run("eval", "--model", model.toString(), "--dataset", noQuestion.toString(), "--preferences",
                "concise", "--out", dir.resolve("r4.jsonl").toString()), "\"question\" must be a string");
        Path prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "[\"be brief\"]");
        assertUsage(CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(),
                "--preference-file", prefs.toString(), "--out", dir.resolve("r5.jsonl").toString()), "JSON object");
    }

    @Test
    void badOptionValues() {
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "--eta", "-1", "Why?"),
                "eta");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "--device", "tpu",
                "Why?"), "--device");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "--prompt-style",
                "fancy", "Why?"), "--prompt-style");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "--max-new-tokens", "many", "Why?"),
                "--max-new-tokens");
        assertUsage(CliRun.run("generate", "--no-such-option", "Why?"), "--no-such-option");
        assertUsage(CliRun.run("generate", "--model", model.toString(), "Why?"), "--preference");
    }
}
