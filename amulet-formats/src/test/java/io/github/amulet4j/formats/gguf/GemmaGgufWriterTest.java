package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Gemma model as GGUF: what llama.cpp reads comes back (window, per-layer pattern, caps, local rotary base, norms
 * stored as {@code 1 + w} and read as {@code w}); what llama.cpp would read otherwise is refused when writing.
 */
class GemmaGgufWriterTest {

    @TempDir
    Path dir;

    private static ModelConfig withScalar(ModelConfig c, double scalar) {
        GemmaConfig g = c.gemma();
        return c.withGemma(new GemmaConfig(scalar, g.attnLogitSoftcapping(), g.finalLogitSoftcapping(),
                g.slidingWindow(), g.slidingLayers(), g.localRopeTheta()));
    }

    @Test
    void gemma3RoundTripsItsFieldsAndNorms() throws IOException {
        ModelConfig c = withScalar(ModelShapes.tinyGemma3(), 16);
        InMemoryTensorStore store = RandomCheckpoint.create(c, 3);
        Path file = dir.resolve("g3.gguf");
        new GgufModelWriter(c, store, GgmlType.F32).write(file);
        try (GgufFile g = GgufFile.open(file)) {
            ModelConfig read = GgufModelConfig.read(g);
            assertEquals(c.gemma(), read.gemma());
            // llama.cpp's layout: the norm weights in the file are 1 + w
            float[] w = store.readFloat32("model.layers.0.post_feedforward_layernorm.weight");
            float[] stored = GgufTensorStore.decodeAll(g, g.tensor("blk.0.post_ffw_norm.weight"));
            assertEquals(1f + w[3], stored[3], 0f);
            try (GgufTensorStore s = GgufTensorStore.of(g, read)) {
                assertEquals(w[3], s.readFloat32("model.layers.0.post_feedforward_layernorm.weight")[3], 1e-7f);
                assertEquals(store.readFloat32("model.layers.1.self_attn.k_norm.weight")[5],
                        s.readFloat32("model.layers.1.self_attn.k_norm.weight")[5], 1e-7f);
            }
        }
    }

    @Test
    void whatLlamaCppWouldReadOtherwiseIsRefused() {
        ModelConfig odd = ModelShapes.tinyGemma2(); // query_pre_attn_scalar 24, head size 16
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GgufModelWriter(odd, RandomCheckpoint.create(odd, 1), GgmlType.F32));
        assertTrue(e.getMessage().contains("query_pre_attn_scalar"), e.getMessage());
        ModelConfig g2 = withScalar(odd, 16);
        GemmaConfig g = g2.gemma();
        ModelConfig uncapped = g2.withGemma(new GemmaConfig(16, null, null, g.slidingWindow(), g.slidingLayers(), null));
        e = assertThrows(IllegalArgumentException.class,
                () -> new GgufModelWriter(uncapped, RandomCheckpoint.create(uncapped, 1), GgmlType.F32));
        assertTrue(e.getMessage().contains("soft-capping"), e.getMessage());
    }
}
