package io.github.amulet4j.cli.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.benchmarks.decode.BenchMethod;
import io.github.amulet4j.benchmarks.decode.BenchReport;
import io.github.amulet4j.benchmarks.decode.DecodeBenchmark;
import io.github.amulet4j.benchmarks.decode.MethodResult;
import io.github.amulet4j.cli.AmuletCli;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }

    /**
     * The conversation mode runs with the prompt cache: every turn after the first restores the previous turn's
     * prompt of both streams (not its answer, which decode steps computed), answers as without the cache, and
     * the report carries the cache's counters.
     */
    @Test
    void conversationModeReportsTheCache() {
        int prompt = 24;
        int answer = 4;
        Run r = run("bench", "--shape", "tiny-qwen2", "--conversation-turns", "3", "--prompt-tokens", "" + prompt,
                "--new-tokens", "" + answer, "--warmup-tokens", "2", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray turns = o.getAsJsonArray("turns");
        assertEquals(3, turns.size(), r.out());
        int previous = 0;
        for (int i = 0; i < 3; i++) {
            JsonObject t = turns.get(i).getAsJsonObject();
            assertTrue(t.get("same_tokens").getAsBoolean(), r.out());
            // base: the history; preference: 16 more ids in front
            int history = (i + 1) * prompt + i * answer;
            assertEquals(2 * history + DecodeBenchmark.PREFERENCE_TOKENS, t.get("prompt_tokens").getAsInt(), r.out());
            if (i > 0) {
                // the previous turn's prompt of both streams: the cache keeps only prefilled positions, so the
                // previous answer's tokens (decode steps, another summation order) are prefilled again
                assertEquals(previous, t.get("tokens_reused").getAsInt(), r.out());
            }
            previous = t.get("prompt_tokens").getAsInt();
        }
        JsonObject cache = o.getAsJsonObject("prompt_cache");
        assertTrue(cache.get("enabled").getAsBoolean(), r.out());
        assertTrue(cache.get("hits").getAsLong() >= 4, r.out());
        assertTrue(cache.get("bytes_held").getAsLong() > 0, r.out());
        assertEquals(2, run("bench", "--shape", "tiny-qwen2", "--conversation-turns", "-1").code(), "bad usage");
    }

    @Test
    void jsonReportHasEveryMethodWithConsistentCounts() throws IOException {
        Set<Path> before = benchFolders();
        Run r = run("bench", "--shape", "tiny-qwen2", "--new-tokens", "5", "--paper-tokens", "3", "--prompt-tokens", "20",
                "--warmup-tokens", "2", "--bandwidth-mib", "16", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray methods = o.getAsJsonArray("methods");
        List<String> ids = methods.asList().stream().map(m -> m.getAsJsonObject().get("method").getAsString()).toList();
        assertEquals(List.of("base", "pref", "la", "amulet", "amulet-iterative", "paper"), ids);
        for (var e : methods) {
            JsonObject m = e.getAsJsonObject();
            String id = m.get("method").getAsString();
            int streams = id.equals("base") || id.equals("pref") ? 1 : 2;
            assertEquals(streams, m.get("streams").getAsInt(), id);
            assertEquals(id.equals("paper") ? 3 : 5, m.get("newTokens").getAsInt(), id);
            assertEquals(!id.equals("paper"), m.get("kvCache").getAsBoolean(), id);
            int prefill = (id.equals("base") ? 0 : 20) + (id.equals("pref") ? 0 : 4);
            assertEquals(prefill, m.get("prefillTokens").getAsInt(), id);
            double ms = m.get("msPerToken").getAsDouble();
            assertEquals(1000.0 / ms, m.get("decodeTokensPerSecond").getAsDouble(), 1e-9, id);
            double outside = m.get("outsideForwardShare").getAsDouble();
            assertTrue(outside > 0 && outside < 1, id + " outside share " + outside);
            // memory per run: the KV cache from the shapes (prompt + new tokens + 1 slots), the peak above the start
            JsonObject mem = m.getAsJsonObject("memory");
            long kv = id.equals("paper") ? 0 : 2L * streams * ModelShapes.tinyQwen2().numLayers()
                    * ModelShapes.tinyQwen2().numKvHeads() * ModelShapes.tinyQwen2().headDim() * 4 * (20 + 5 + 1);
            assertEquals(kv, mem.get("kvCacheBytes").getAsLong(), id);
            if (mem.has("peakResidentBytes")) {
                assertTrue(mem.get("peakResidentBytes").getAsLong() >= mem.get("residentBeforeBytes").getAsLong(), id);
                assertTrue(mem.get("temporariesBytes").getAsLong() >= 0, id);
            }
            assertTrue(mem.get("weightBytes").getAsLong() > 0, id);
        }
        assertEquals(1.0, methods.get(1).getAsJsonObject().get("ratioToPref").getAsDouble(), 1e-12);
        assertEquals("cpu", o.get("device").getAsString());
        assertTrue(o.get("bandwidthBytesPerSecond").getAsDouble() > 1e8);
        JsonObject mem = o.getAsJsonObject("memory");
        assertTrue(mem.get("residentBytes").getAsLong() > mem.get("engineArrayBytes").getAsLong());
        // the tiny shape has an untied head: a step reads every weight the model holds except the embedding table,
        // which is only looked up (the bench writes BF16 and --weights auto keeps it: 2 bytes per value; at least one
        // row per token of the 1000-token tokenizer)
        long notRead = mem.get("engineArrayBytes").getAsLong() - o.get("weightBytesPerToken").getAsLong();
        long rowBytes = 2L * ModelShapes.tinyQwen2().hiddenSize();
        assertEquals(0, notRead % rowBytes, "not read: " + notRead);
        assertTrue(notRead / rowBytes >= 1000 && notRead / rowBytes < 1100, "embedding rows: " + notRead / rowBytes);
        assertEquals(before, benchFolders(), "the temporary checkpoint folder is deleted");
    }

    @Test
    void weightsFlagChangesTheBytesEachTokenReads() {
        long[] bytes = new long[2];
        String[] formats = {"f32", "q4_0"};
        for (int i = 0; i < 2; i++) {
            Run r = run("bench", "--shape", "tiny-llama", "--new-tokens", "2", "--prompt-tokens", "17",
                    "--warmup-tokens", "0", "--methods", "pref", "--bandwidth-mib", "16", "--weights", formats[i], "--json");
            assertEquals(0, r.code(), r.toString());
            bytes[i] = JsonParser.parseString(r.out()).getAsJsonObject().get("weightBytesPerToken").getAsLong();
        }
        // tiny-llama's rows are whole 32-weight blocks: 18 bytes per 32 weights instead of 128 (norms stay float32)
        assertTrue(bytes[1] < 0.15 * bytes[0] && bytes[1] > 0.13 * bytes[0], bytes[1] + " vs " + bytes[0]);
        Run bad = run("bench", "--shape", "tiny-llama", "--weights", "int8");
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("--weights") && bad.err().contains("q8_0"), bad.toString());
    }

    @Test
    void tableNamesTheTargetsAndTheMachine() {
        Run r = run("bench", "--shape", "tiny-llama", "--new-tokens", "3", "--prompt-tokens", "17", "--warmup-tokens", "0",
                "--methods", "pref,amulet", "--bandwidth-mib", "16", "--dtype", "float16", "--device", "CPU",
                "--product-threads", "3");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("threads per one-column product 3"), r.out());
        assertTrue(r.out().contains("float16 on cpu"), r.out());
        assertTrue(r.out().contains("of the bandwidth bound: "), r.out());
        assertFalse(r.out().contains("not applicable"), r.out());
        assertTrue(r.out().contains("amulet >= 0.85 x pref"), r.out());
        assertTrue(r.out().contains("peak resident <= weights + KV cache + 1 GiB (issue 9, amulet"), r.out());
        assertTrue(r.out().contains("memory per run"), r.out());
        assertTrue(r.out().contains("load average"), r.out());
        assertFalse(r.out().contains("amulet-iterative"), r.out());
    }

    @Test
    void weightsReadPerTokenMatchThePublishedParameterCounts() {
        // Qwen2.5-0.5B and Llama-3.2-1B tie their embeddings: the head reads the whole table, so every parameter counts.
        assertEquals(494_032_768L, DecodeBenchmark.weightElementsPerToken(ModelShapes.qwen25_05b()));
        assertEquals(1_235_814_400L, DecodeBenchmark.weightElementsPerToken(ModelShapes.llama32_1b()));
    }

    @Test
    void badOptionsAreUsageErrors() {
        Run methods = run("bench", "--methods", "pref,fast");
        assertEquals(AmuletCli.USAGE, methods.code(), methods.toString());
        assertTrue(methods.err().contains("unknown method 'fast'"), methods.err());
        Run dtype = run("bench", "--dtype", "bfloat16");
        assertEquals(AmuletCli.USAGE, dtype.code());
        assertTrue(dtype.err().contains("--dtype"), dtype.err());
        Run threads = run("bench", "--product-threads", "-1");
        assertEquals(AmuletCli.USAGE, threads.code(), threads.toString());
        assertTrue(threads.err().contains("--product-threads"), threads.err());
        Run device = run("bench", "--device", "tpu");
        assertEquals(AmuletCli.USAGE, device.code(), device.toString());
        assertTrue(device.err().contains("--device") && device.err().contains("tpu"), device.err());
        Run rounds = run("bench", "--rounds", "0");
        assertEquals(AmuletCli.USAGE, rounds.code(), rounds.toString());
        assertTrue(rounds.err().contains("--rounds must be >= 1, got 0"), rounds.err());
        Run tokens = run("bench", "--new-tokens", "1");
        assertEquals(AmuletCli.USAGE, tokens.code());
        assertTrue(tokens.err().contains("new tokens must be >= 2"), tokens.err());
    }

    @Test
    void gpuReportClaimsNoBandwidthBound() {
        // a GPU run measures no host bandwidth (NaN): the table and the JSON must not relate pref to a bound
        List<MethodResult> rows = List.of(
                new MethodResult(BenchMethod.PREF, true, 64, 2_000_000, 10, 9, 90_000_000, 80_000_000, 1_000_000,
                        new MethodResult.Memory(2L << 30, 5L << 29, 1L << 30, 1L << 28)),
                new MethodResult(BenchMethod.AMULET, true, 112, 3_000_000, 10, 9, 99_000_000, 85_000_000, 2_000_000,
                        new MethodResult.Memory(2L << 30, 9L << 28, 1L << 30, 1L << 29)));
        BenchReport report = new BenchReport("qwen2.5-0.5b (random weights)", "float16", "gpu(0)", 64, 48,
                new BenchReport.Machine("cpu", 16, 1L << 36, "Java 17", "intra-op default, inter-op default", "unset"),
                0.5, 0.6, rows, 3L << 30, 1L << 30, 1L << 30, 988_065_536L, Double.NaN, Double.NaN);
        String table = report.table();
        assertTrue(table.contains("float16 on gpu(0)"), table);
        assertTrue(table.contains("bandwidth: not measured (the model ran on gpu(0)"), table);
        assertTrue(table.contains("of the bandwidth bound: not applicable on gpu(0)"), table);
        assertFalse(table.contains("tok/s (") || table.contains("NaN") || table.contains("Infinity"), table);
        assertTrue(table.contains("amulet >= 0.85 x pref decode tok/s: 0.91"), table);
        // the derived numbers, by hand: pref 90 ms over 9 passes = 10 ms/token = 100 tok/s, 64 tokens in 2 ms =
        // 32000 tok/s, outside (90 - 80 + 1) / 90; amulet 99 ms / 9 = 11 ms/token = 90.91 tok/s, 0.91 x pref,
        // outside (99 - 85 + 2) / 99 = 16.2%; native memory 3 GiB resident - 1 GiB heap
        assertTrue(table.contains("32000.0") && table.contains("100.00") && table.contains("10.0"), table);
        assertTrue(table.contains("90.91") && table.contains("11.0") && table.contains("16.2%"), table);
        assertTrue(table.contains("native (resident - heap) 2.00 GiB"), table);
        // peak 2.5 GiB > 1 + 0.25 + 1 GiB; peak 2.25 GiB <= 1 + 0.5 + 1 GiB; temporaries = peak - before - KV cache
        assertTrue(table.contains("(issue 9, pref, 64 prompt tokens): 2.50 <= 2.25 GiB  (not met)"), table);
        assertTrue(table.contains("(issue 9, amulet, 64 prompt tokens): 2.25 <= 2.50 GiB  (met)"), table);
        assertTrue(table.contains("pref               peak 2.50 GiB: weights 1.00, KV cache 0.250, temporaries 0.25, "
                + "other 1.00 GiB"), table);
        JsonObject o = JsonParser.parseString(report.json()).getAsJsonObject();
        JsonObject pref = o.getAsJsonArray("methods").get(0).getAsJsonObject();
        JsonObject amulet = o.getAsJsonArray("methods").get(1).getAsJsonObject();
        assertEquals(10.0, pref.get("msPerToken").getAsDouble(), 1e-12);
        assertEquals(100.0, pref.get("decodeTokensPerSecond").getAsDouble(), 1e-9);
        assertEquals(32000.0, pref.get("prefillTokensPerSecond").getAsDouble(), 1e-6);
        assertEquals(11.0 / 90, pref.get("outsideForwardShare").getAsDouble(), 1e-12);
        assertEquals(1.0 / 9, pref.get("logitsCopyMsPerToken").getAsDouble(), 1e-12);
        assertEquals(11.0, amulet.get("msPerToken").getAsDouble(), 1e-12);
        assertEquals(10.0 / 11, amulet.get("ratioToPref").getAsDouble(), 1e-12);
        assertEquals(16.0 / 99, amulet.get("outsideForwardShare").getAsDouble(), 1e-12);
        assertEquals(2L << 30, o.getAsJsonObject("memory").get("nativeBytes").getAsLong());
        for (String absent : List.of("bandwidthBytesPerSecond", "boundTokensPerSecond", "prefShareOfBound")) {
            assertFalse(o.has(absent), absent + " in " + o);
        }
    }

    private static Set<Path> benchFolders() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("amulet-bench-")).collect(Collectors.toSet());
        }
    }
}
