package io.github.amulet4j.djl;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.FinishReason;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.GenerationStats;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AmuletModel#memory()} and {@link AmuletModel#generateTokenIds} with its {@link GenerationStats}. */
class ModelMemoryAndTokenIdsTest {

    @TempDir
    static Path dir;

    static Path qwen;
    static ModelConfig config;

    @BeforeAll
    static void write() throws IOException {
        qwen = dir.resolve("qwen2");
        config = RandomModelFolder.write(qwen, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
    }

    private static AmuletModel load(RuntimeOptions.Weights weights, boolean kvCache) throws IOException {
        return AmuletModel.load(ModelOptions.builder().model(qwen)
                .runtime(r -> r.linearKernel(RuntimeOptions.LinearKernel.JAVA).weights(weights).useKvCache(kvCache))
                .build());
    }

    @Test
    void memoryCountsTheWeightsEachTokenReadsAndTheKvCacheFromTheShape() throws IOException {
        // keys and values of every layer, float32, per stream and position: from the shape by hand
        long kvPerToken = 2L * config.numLayers() * config.numKvHeads() * config.headDim() * 4;
        // the untied tiny shape: everything but the embedding table is read once per token
        long elements = 0;
        for (var e : io.github.amulet4j.formats.checkpoint.TensorLayout.expectedTensors(config).entrySet()) {
            if (!e.getKey().endsWith("embed_tokens.weight")) {
                long n = 1;
                for (long d : e.getValue()) {
                    n *= d;
                }
                elements += n;
            }
        }
        long embedding = (long) config.vocabSize() * config.hiddenSize();
        ModelMemory f32;
        try (AmuletModel model = load(RuntimeOptions.Weights.F32, true)) {
            f32 = model.memory();
        }
        assertEquals(kvPerToken, f32.kvCacheBytesPerToken());
        assertEquals(kvPerToken * 2 * 30, f32.kvCacheBytes(2, 30));
        // a float16 KV cache (where the native attention runs): half the bytes a token
        try (AmuletModel model = AmuletModel.load(ModelOptions.builder().model(qwen).runtime(r -> r
                .linearKernel(RuntimeOptions.LinearKernel.JAVA).weights(RuntimeOptions.Weights.F32)
                .kvCache(io.github.amulet4j.transformer.KvCachePrecision.F16)).build())) {
            long want = model.kvCachePrecision() == io.github.amulet4j.transformer.KvCachePrecision.F16
                    ? kvPerToken / 2 : kvPerToken;
            assertEquals(io.github.amulet4j.transformer.weights.NativeKernels.available(),
                    want == kvPerToken / 2, "float16 where the library is loaded");
            assertEquals(want, model.memory().kvCacheBytesPerToken());
        }
        assertTrue(f32.javaKernels());
        assertEquals("F32", f32.weightFormats());
        assertEquals(4 * elements, f32.weightBytesPerToken());
        assertEquals(elements, ModelMemory.weightElementsPerToken(config));
        // the weights held are those read plus the embedding table, which is only looked up
        assertEquals(4 * (elements + embedding), f32.weightBytes());
        ModelMemory q8;
        try (AmuletModel model = load(RuntimeOptions.Weights.Q8_0, false)) {
            q8 = model.memory();
        }
        assertEquals(0, q8.kvCacheBytesPerToken(), "no KV cache kept");
        assertTrue(q8.weightFormats().contains("Q8_0"), q8.weightFormats());
        // Q8_0: 34 bytes per 32 weights for the linear layers
        assertTrue(q8.weightBytesPerToken() < 0.3 * f32.weightBytesPerToken(), q8 + " vs " + f32);
    }

    @Test
    void tokenIdRequestsDecodeAsRenderedOnesAndReportTheirCounts() throws IOException {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(5).build();
        try (AmuletModel model = load(RuntimeOptions.Weights.AUTO, true)) {
            GenerationResult rendered = model.generate("What is rain?", Preference.of("concise"), config);
            PromptPair p = model.prompts().render("What is rain?", Preference.of("concise"));
            GenerationResult ids = model.generateTokenIds(GenerationRequest.of(p.base().tokenIds(),
                    p.preference().tokenIds()).withConfig(config), TokenListener.NONE);
            assertArrayEquals(rendered.tokenIds(), ids.tokenIds());
            GenerationStats s = ids.stats();
            assertEquals(p.base().length() + p.preference().length(), s.promptTokens());
            assertEquals(s.promptTokens(), rendered.stats().promptTokens());
            int tokens = ids.generatedTokens();
            assertEquals(ids.finishReason() == FinishReason.EOS ? tokens : tokens - 1, s.decodeSteps(), ids.toString());
            assertTrue(s.prefillNanos() > 0 && s.prefillNanos() <= s.timeToFirstTokenNanos(), s.toString());
            assertTrue(s.timeToFirstTokenNanos() <= s.totalNanos(), s.toString());
            assertTrue(s.decodeForwardNanos() <= s.decodeNanos() && s.decodeNanos() <= s.totalNanos(), s.toString());
            assertTrue(s.decodeSteps() == 0 || s.decodeForwardNanos() > 0, s.toString());
            // a batch of two: each request counts its own prompt
            List<GenerationResult> two = model.generateTokenIds(List.of(
                    GenerationRequest.preferenceOnly(p.preference().tokenIds()).withConfig(
                            config.toBuilder().method(io.github.amulet4j.align.AlignmentMethod.PREF).build()),
                    GenerationRequest.baseOnly(p.base().tokenIds()).withConfig(
                            config.toBuilder().method(io.github.amulet4j.align.AlignmentMethod.BASE).build())),
                    TokenListener.NONE);
            assertEquals(p.preference().length(), two.get(0).stats().promptTokens());
            assertEquals(p.base().length(), two.get(1).stats().promptTokens());
            assertFalse(two.get(0).stats().prefillNanos() <= 0);
        }
    }
}
