package io.github.amulet4j.benchmarks.decode;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoding benchmark on a tiny random model folder, through the library's public API. */
class DecodeBenchmarkTest {

    @TempDir
    Path dir;

    /** Every timed method with a KV cache is warmed up on its own prompt, after one stream and two, each once. */
    @Test
    void warmUpCoversEveryTimedMethod() {
        assertEquals(List.of(BenchMethod.PREF, BenchMethod.AMULET, BenchMethod.BASE),
                DecodeBenchmark.warmupMethods(List.of(BenchMethod.BASE, BenchMethod.AMULET)));
        assertEquals(List.of(BenchMethod.PREF, BenchMethod.AMULET, BenchMethod.LA, BenchMethod.BASE),
                DecodeBenchmark.warmupMethods(List.of(BenchMethod.LA, BenchMethod.PREF, BenchMethod.BASE)));
        assertEquals(List.of(BenchMethod.PREF, BenchMethod.AMULET),
                DecodeBenchmark.warmupMethods(List.of(BenchMethod.PAPER)));
    }

    /** Rounds of one method add up: tokens, passes and times summed, the highest peak; other methods refused. */
    @Test
    void roundsSumIntoOneResult() {
        MethodResult a = new MethodResult(BenchMethod.AMULET, true, 100, 2_000_000, 8, 7, 70_000_000, 60_000_000,
                MethodResult.NOT_MEASURED, new MethodResult.Memory(5_000, 9_000, 1_000, 500));
        MethodResult b = new MethodResult(BenchMethod.AMULET, true, 100, 4_000_000, 8, 7, 140_000_000, 100_000_000,
                MethodResult.NOT_MEASURED, new MethodResult.Memory(6_000, 12_000, 1_000, 500));
        MethodResult sum = MethodResult.sum(List.of(a, b));
        assertEquals(200, sum.prefillTokens());
        assertEquals(6_000_000, sum.prefillNanos());
        assertEquals(16, sum.newTokens());
        assertEquals(14, sum.forwardPasses());
        assertEquals(210_000_000, sum.decodeNanos());
        assertEquals(160_000_000, sum.forwardNanos());
        assertFalse(sum.copyMeasured());
        assertEquals(new MethodResult.Memory(5_000, 12_000, 1_000, 500), sum.memory());
        // 14 passes in 210 ms: the rounds' total rate, not the mean of their rates (100 and 50 tokens/s)
        assertEquals(1000.0 / 15.0, sum.decodeTokensPerSecond(), 1e-9);
        assertEquals(a, MethodResult.sum(List.of(a)));
        MethodResult base = new MethodResult(BenchMethod.BASE, true, 50, 1, 8, 7, 1, 1, MethodResult.NOT_MEASURED,
                a.memory());
        assertThrows(IllegalArgumentException.class, () -> MethodResult.sum(List.of(a, base)));
        assertThrows(IllegalArgumentException.class, () -> MethodResult.sum(List.of()));
        assertThrows(IllegalArgumentException.class, () -> DecodeBenchmarkSettings.builder().rounds(0).build());
    }

    /** With rounds, the methods take turns and each result counts every round's tokens and passes. */
    @Test
    void methodsTakeTurnsOverRounds() throws IOException {
        Path folder = dir.resolve("tiny-qwen2");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
        DecodeBenchmarkSettings settings = DecodeBenchmarkSettings.builder().model(folder).newTokens(4)
                .promptTokens(20).warmupTokens(0).rounds(3).bandwidthBytes(1 << 20)
                .methods(List.of(BenchMethod.AMULET, BenchMethod.BASE)).build();
        List<String> progress = new ArrayList<>();
        BenchReport report = new DecodeBenchmark(settings, progress::add).run();
        List<String> timed = progress.stream().filter(p -> p.startsWith("timing")).toList();
        assertEquals(List.of("timing base (4 tokens, round 1 of 3) ...", "timing amulet (4 tokens, round 1 of 3) ...",
                "timing base (4 tokens, round 2 of 3) ...", "timing amulet (4 tokens, round 2 of 3) ...",
                "timing base (4 tokens, round 3 of 3) ...", "timing amulet (4 tokens, round 3 of 3) ..."), timed);
        for (MethodResult r : report.results()) {
            assertEquals(12, r.newTokens(), r.method().id());
            assertEquals(9, r.forwardPasses(), r.method().id());
            assertEquals(3 * (r.method() == BenchMethod.AMULET ? 20 + 4 : 4), r.prefillTokens(), r.method().id());
        }
    }

    /** The machine line names the kernels that really multiply: Java when asked for, native per format it takes. */
    @Test
    void kernelsLabelNamesWhatRuns() {
        assertEquals("java (Vector API)", DecodeBenchmark.kernelsLabel(Kernels.JAVA, "Q4_0+F32"));
        org.junit.jupiter.api.Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        String label = DecodeBenchmark.kernelsLabel(Kernels.NATIVE, "Q4_0+F32");
        // F32 on the native F32 kernels too (each format's own variant)
        assertEquals("native (" + NativeKernels.variantName(WeightFormat.Q4_0) + ") for Q4_0, native ("
                + NativeKernels.variantName(WeightFormat.F32) + ") for F32", label);
        assertFalse(label.contains("Vector API) for Q4_0"), label);
    }

    @Test
    void reportCountsFollowTheSettingsAndTheTimesNest() throws IOException {
        Path folder = dir.resolve("tiny-llama");
        ModelConfig config = RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_LLAMA, 5, SafetensorsDtype.F32);
        int newTokens = 6;
        int promptTokens = 20;
        int paperTokens = 3;
        DecodeBenchmarkSettings settings = DecodeBenchmarkSettings.builder().model(folder).newTokens(newTokens)
                .promptTokens(promptTokens).paperTokens(paperTokens).warmupTokens(2).bandwidthBytes(1 << 20)
                .methods(List.of(BenchMethod.PAPER, BenchMethod.BASE, BenchMethod.AMULET, BenchMethod.PREF)).build();
        List<String> progress = new ArrayList<>();
        BenchReport report = new DecodeBenchmark(settings, progress::add).run();

        assertEquals(promptTokens, report.prefPromptTokens());
        assertEquals(promptTokens - 16, report.basePromptTokens());
        // report order is the methods' order, whatever the order asked
        assertEquals(List.of(BenchMethod.BASE, BenchMethod.PREF, BenchMethod.AMULET, BenchMethod.PAPER),
                report.results().stream().map(MethodResult::method).toList());
        // keys and values of every layer in float32, per stream and position, by hand from the shape
        long kvPerToken = 2L * config.numLayers() * config.numKvHeads() * config.headDim() * 4;
        for (MethodResult r : report.results()) {
            BenchMethod m = r.method();
            String id = m.id();
            int tokens = m == BenchMethod.PAPER ? paperTokens : newTokens;
            assertEquals(tokens, r.newTokens(), id);
            // the first token comes from the prefill: one decode forward pass per further token
            assertEquals(tokens - 1, r.forwardPasses(), id);
            int prefill = (m.method().needsPreference() ? promptTokens : 0)
                    + (m.method().needsBase() ? promptTokens - 16 : 0);
            assertEquals(prefill, r.prefillTokens(), id);
            assertEquals(m != BenchMethod.PAPER, r.kvCache(), id);
            assertTrue(r.prefillNanos() > 0, id);
            assertTrue(r.forwardNanos() > 0 && r.forwardNanos() <= r.decodeNanos(), id + ": " + r);
            assertFalse(r.copyMeasured(), id);
            double outside = r.outsideForwardShare();
            assertTrue(outside > 0 && outside < 1, id + " outside share " + outside);
            assertEquals(r.kvCache() ? kvPerToken * m.streams() * (promptTokens + newTokens + 1) : 0,
                    r.memory().kvCache(), id);
            assertEquals(report.engineBytes(), r.memory().weights(), id);
        }
        // the folder is float32 and the Java kernels keep it: a token reads every weight but the embedding table
        long read = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            if (!e.getKey().endsWith("embed_tokens.weight")) {
                long n = 1;
                for (long d : e.getValue()) {
                    n *= d;
                }
                read += n;
            }
        }
        assertEquals(4 * read, report.weightBytesPerToken());
        assertEquals(4L * (read + (long) config.vocabSize() * config.hiddenSize()), report.engineBytes());
        assertTrue(report.bandwidthMeasured());
        JsonObject pref = JsonParser.parseString(report.json()).getAsJsonObject().getAsJsonArray("methods").get(1)
                .getAsJsonObject();
        assertEquals("pref", pref.get("method").getAsString());
        // the KV cache's precision that ran: float32, the default
        assertEquals("f32", report.kvCache());
        assertEquals("f32", JsonParser.parseString(report.json()).getAsJsonObject().get("kvCache").getAsString());
        assertFalse(pref.has("logitsCopyMsPerToken"), "not measured through the public API: " + pref);
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("timing paper")), progress.toString());
    }

    @Test
    void settingsAreCheckedWhenBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeBenchmarkSettings.builder().promptTokens(16).build());
        assertTrue(e.getMessage().contains("prompt tokens must be >= 17"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DecodeBenchmarkSettings.builder().methods(List.of()));
    }
}
