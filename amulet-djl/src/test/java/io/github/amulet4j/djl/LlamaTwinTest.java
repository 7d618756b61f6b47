package io.github.amulet4j.djl;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code random-model --llama-twin}: a plain Llama of an architecture's sizes, the baseline of the speed targets.
 * Every size is the original's, none of its features is left, and the weights are a Llama's tensors of the same
 * shapes (the fused Phi-3 projections split, the extra Gemma norms gone).
 */
class LlamaTwinTest {

    @TempDir
    Path dir;

    @Test
    void twinKeepsEverySizeAndDropsEveryFeature() {
        for (ModelConfig c : List.of(ModelShapes.gemma2_2b(), ModelShapes.gemma3_1b(), ModelShapes.phi35Mini(),
                ModelShapes.phi4Mini())) {
            ModelConfig t = RandomModelFolder.llamaTwin(c);
            String what = c.architecture() + " " + c.hiddenSize();
            assertEquals("LlamaForCausalLM", t.architecture(), what);
            assertEquals(List.of(c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(),
                            c.intermediateSize(), c.vocabSize(), c.maxPositions()),
                    List.of(t.hiddenSize(), t.numLayers(), t.numHeads(), t.numKvHeads(), t.headDim(),
                            t.intermediateSize(), t.vocabSize(), t.maxPositions()), what);
            assertEquals(c.tieWordEmbeddings(), t.tieWordEmbeddings(), what);
            assertEquals(c.ropeTheta(), t.ropeTheta(), what);
            assertNull(t.gemma(), what);
            assertNull(t.ropeScaling(), what);
            assertNull(t.slidingWindow(), what);
            assertFalse(t.qkNorm() || t.attentionBias() || t.isPhi3() || t.isGemma(), what);
            assertEquals(1.0, t.partialRotaryFactor(), what);
            assertEquals("silu", t.hiddenAct(), what);
        }
        assertThrows(IllegalArgumentException.class, () -> RandomModelFolder.llamaTwin(ModelShapes.tinyGpt2()));
    }

    /** The written twin of a tiny Phi-3 holds Llama tensors whose shapes add up to the fused ones of the original. */
    @Test
    void writtenTwinHasTheOriginalsTensorSizes() throws IOException {
        Path phi = dir.resolve("phi3");
        Path twin = dir.resolve("twin");
        RandomModelFolder.write(phi, RandomModelFolder.Shape.TINY_PHI3, 1, SafetensorsDtype.F32);
        ModelConfig written = RandomModelFolder.write(twin, RandomModelFolder.Shape.TINY_PHI3, 1, SafetensorsDtype.F32,
                true);
        assertEquals("LlamaForCausalLM", ModelConfigReader.readFolder(twin).architecture());
        assertEquals(written.hiddenSize(), ModelConfigReader.readFolder(phi).hiddenSize());
        try (SafetensorsFile p = SafetensorsFile.open(phi.resolve("model.safetensors"));
             SafetensorsFile t = SafetensorsFile.open(twin.resolve("model.safetensors"))) {
            String l = "model.layers.0.";
            long[] qkv = p.shape(l + "self_attn.qkv_proj.weight");
            assertEquals(qkv[0], t.shape(l + "self_attn.q_proj.weight")[0] + t.shape(l + "self_attn.k_proj.weight")[0]
                    + t.shape(l + "self_attn.v_proj.weight")[0]);
            long[] gateUp = p.shape(l + "mlp.gate_up_proj.weight");
            assertArrayEquals(new long[] {gateUp[0] / 2, gateUp[1]}, t.shape(l + "mlp.gate_proj.weight"));
            assertArrayEquals(p.shape(l + "mlp.down_proj.weight"), t.shape(l + "mlp.down_proj.weight"));
            assertEquals(params(p), params(t), "the same number of weights, up to the norms");
            Set<String> names = new TreeSet<>(t.names());
            assertFalse(names.stream().anyMatch(n -> n.contains("qkv_proj") || n.contains("gate_up")), names.toString());
        }
    }

    private static long params(SafetensorsFile f) {
        long n = 0;
        for (String name : f.names()) {
            long[] s = f.shape(name);
            if (s.length == 2) {
                n += s[0] * s[1];
            }
        }
        return n;
    }
}
