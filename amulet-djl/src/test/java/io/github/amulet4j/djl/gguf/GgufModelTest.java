package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.formats.gguf.GgufModelConfig;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTensorStore;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.djl.model.RuntimeOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A tiny random model of every architecture written as safetensors (by {@link RandomModelFolder}) and as GGUF
 * (by {@link GgufModelWriter}, with llama.cpp's names, q/k permutation, Conv1D transposes and rope_freqs): the
 * configuration read back from GGUF metadata equals config.json's, the logits of every position agree within
 * 1e-5 in float32 and greedy decoding picks the same tokens.
 */
class GgufModelTest {

    static final float TOL = 1e-5f;

    @TempDir
    Path dir;

    static RuntimeOptions engine() {
        return RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
    }

    @ParameterizedTest
    @EnumSource(names = {"TINY_LLAMA", "TINY_MISTRAL", "TINY_QWEN2", "TINY_QWEN3", "TINY_GPT2", "TINY_GEMMA2",
            "TINY_GEMMA3", "TINY_PHI3"})
    void logitsEqualSafetensors(RandomModelFolder.Shape shape) throws IOException {
        Path folder = dir.resolve(shape.id());
        RandomModelFolder.write(folder, shape, 11, SafetensorsDtype.F32);
        ModelConfig hf = ModelConfigReader.readFolder(folder);
        Path gguf = dir.resolve(shape.id() + ".gguf");
        try (TensorStore st = Checkpoints.open(folder)) {
            new GgufModelWriter(hf, st, GgmlType.F32).write(gguf);
        }
        int[] prompt = tokens(hf, 9, 3);
        try (GgufFile g = GgufFile.open(gguf)) {
            ModelConfig c = GgufModelConfig.read(g);
            assertSameConfig(hf, c);
            try (TensorStore st = Checkpoints.open(folder);
                 DjlCausalLm want = DjlCausalLm.load(hf, st, engine());
                 GgufTensorStore gs = GgufTensorStore.of(g, c);
                 DjlCausalLm got = DjlCausalLm.load(c, gs, engine())) {
                float[][] a = want.logitsAllPositions(prompt);
                float[][] b = got.logitsAllPositions(prompt);
                float spread = 0;
                for (int p = 0; p < a.length; p++) {
                    for (int v = 0; v < a[p].length; v++) {
                        assertEquals(a[p][v], b[p][v], TOL, shape + " position " + p + " logit " + v);
                        spread = Math.max(spread, Math.abs(a[p][v] - a[0][v]));
                    }
                }
                assertTrue(spread > 0.1f, "logits move with the input: " + spread);
                assertArrayEquals(greedy(want, prompt, 8), greedy(got, prompt, 8), shape + " greedy tokens");
            }
        }
    }

    static void assertSameConfig(ModelConfig want, ModelConfig got) {
        String arch = want.architecture().equals("MistralForCausalLM") ? "LlamaForCausalLM" : want.architecture();
        assertEquals(arch, got.architecture());
        assertEquals(want.hiddenSize(), got.hiddenSize());
        assertEquals(want.numLayers(), got.numLayers());
        assertEquals(want.numHeads(), got.numHeads());
        assertEquals(want.numKvHeads(), got.numKvHeads());
        assertEquals(want.headDim(), got.headDim());
        assertEquals(want.intermediateSize(), got.intermediateSize());
        assertEquals(want.vocabSize(), got.vocabSize());
        assertEquals(want.maxPositions(), got.maxPositions());
        assertEquals(want.normEps(), got.normEps(), 1e-12);
        assertEquals(want.tieWordEmbeddings(), got.tieWordEmbeddings());
        assertEquals(want.attentionBias(), got.attentionBias());
        assertEquals(want.qkNorm(), got.qkNorm());
        assertEquals(want.slidingWindow(), got.slidingWindow());
        assertEquals(want.rotaryDim(), got.rotaryDim());
        assertEquals(want.bosTokenId(), got.bosTokenId());
        assertEquals(want.eosTokenIds().get(0), got.eosTokenIds().get(0));
        if (!want.isGpt2()) {
            assertEquals(want.ropeTheta(), got.ropeTheta(), 1e-9);
        }
        assertEquals(want.ropeScaling() == null, got.ropeScaling() == null, "rope scaling present");
        // Gemma: windows, layer pattern, soft-capping, local rotary base, attention scale
        assertEquals(want.gemma(), got.gemma());
    }

    static int[] tokens(ModelConfig c, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(c.vocabSize());
        }
        return t;
    }

    static int[] greedy(DjlCausalLm lm, int[] prompt, int steps) {
        List<Integer> out = new ArrayList<>();
        try (DecodingSession s = lm.prefill(List.of(prompt))) {
            for (int i = 0; i < steps; i++) {
                float[] row = s.logits().row(0);
                int best = 0;
                for (int v = 1; v < row.length; v++) {
                    if (row[v] > row[best]) {
                        best = v;
                    }
                }
                out.add(best);
                s.append(new int[] {best});
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void permutationIsUndone() throws IOException {
        // without undoing llama.cpp's q/k permutation the logits differ: the test above would catch a missing step
        Path folder = dir.resolve("llama");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_LLAMA, 5, SafetensorsDtype.F32);
        ModelConfig hf = ModelConfigReader.readFolder(folder);
        Path gguf = dir.resolve("llama.gguf");
        try (TensorStore st = Checkpoints.open(folder)) {
            new GgufModelWriter(hf, st, GgmlType.F32).write(gguf);
            try (GgufFile g = GgufFile.open(gguf)) {
                ModelConfig c = GgufModelConfig.read(g);
                GgufTensorStore gs = GgufTensorStore.of(g, c);
                String q = "model.layers.1.self_attn.q_proj.weight";
                String k = "model.layers.0.self_attn.k_proj.weight";
                assertArrayEquals(st.readFloat32(q), gs.readFloat32(q));
                assertArrayEquals(st.readFloat32(k), gs.readFloat32(k));
                float[] raw = GgufTensorStore.decodeAll(g, g.tensor("blk.1.attn_q.weight"));
                assertNotEquals(java.util.Arrays.toString(st.readFloat32(q)), java.util.Arrays.toString(raw));
                assertEquals("blk.1.attn_q.weight", gs.ggufName(q));
                // llama3 rope scaling recovered from rope_freqs.weight
                assertEquals("llama3", c.ropeScaling().type());
                assertEquals(hf.ropeScaling().factor(), c.ropeScaling().factor(), 1e-5);
            }
        }
    }

    @Test
    void unsupportedArchitectureNamed() throws IOException {
        Path f = dir.resolve("phi.gguf");
        new GgufWriter().putString("general.architecture", "phi2")
                .tensor("token_embd.weight", GgmlType.F32, new long[] {4, 8}, new float[32]).write(f);
        try (GgufFile g = GgufFile.open(f)) {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufModelConfig.read(g));
            assertTrue(e.getMessage().contains("'general.architecture' is 'phi2'")
                    && e.getMessage().contains("qwen2"), e.getMessage());
        }
    }
}
