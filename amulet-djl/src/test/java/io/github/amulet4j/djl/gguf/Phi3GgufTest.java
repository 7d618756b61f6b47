package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufModelConfig;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Phi-3 in GGUF as llama.cpp's converter lays it out: architecture {@code phi3}, fused {@code attn_qkv} and
 * {@code ffn_up} (gate and up rows), {@code rope.dimension_count} of the rotated dimensions only, longrope as
 * {@code rope_factors_long/short.weight} with the original context length and attention factor; read back, the
 * model gives the safetensors model's logits on a prompt beyond the original length too (long factors).
 */
class Phi3GgufTest {

    @TempDir
    Path dir;

    /**
     * A Phi-3 SentencePiece vocabulary in a GGUF file (pieces, scores, token types, as llama.cpp stores it) named like
     * a Phi-3 model: its special tokens take the whitespace after them, as the folder's {@code tokenizer.json} says, so
     * a chat turn tokenizes the same from both.
     */
    @Test
    void phi3TokenizerFromGgufTakesTheWhitespaceAfterSpecialTokens() throws IOException {
        Path folder = io.github.amulet4j.djl.tokenizer.Phi3TokenizerFolder.write(dir, "phi35");
        com.google.gson.JsonObject tok = com.google.gson.JsonParser.parseString(
                java.nio.file.Files.readString(folder.resolve("tokenizer.json"))).getAsJsonObject();
        com.google.gson.JsonObject model = tok.getAsJsonObject("model");
        String[] tokens = new String[32011];
        model.getAsJsonObject("vocab").entrySet().forEach(e -> tokens[e.getValue().getAsInt()] = e.getKey());
        tok.getAsJsonArray("added_tokens").forEach(e -> tokens[e.getAsJsonObject().get("id").getAsInt()] =
                e.getAsJsonObject().get("content").getAsString());
        float[] scores = GgufRealTokenizerTest.sentencePieceScores(tokens, model);
        int[] types = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            types[i] = i == 0 ? io.github.amulet4j.formats.gguf.GgufTokenizer.UNKNOWN
                    : i <= 2 || i >= 32000 ? io.github.amulet4j.formats.gguf.GgufTokenizer.CONTROL
                    : tokens[i].matches("<0x[0-9A-F]{2}>") ? io.github.amulet4j.formats.gguf.GgufTokenizer.BYTE
                    : io.github.amulet4j.formats.gguf.GgufTokenizer.NORMAL;
        }
        Path gguf = dir.resolve("phi35-tokenizer.gguf");
        new io.github.amulet4j.formats.gguf.GgufWriter().putString("general.architecture", "phi3")
                .putString("general.name", "Phi 3.5 Mini Instruct").putString("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", java.util.Arrays.asList(tokens))
                .putFloats("tokenizer.ggml.scores", scores).putInts("tokenizer.ggml.token_type", types)
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 32000)
                .putU32("tokenizer.ggml.unknown_token_id", 0).putBool("tokenizer.ggml.add_bos_token", false).write(gguf);
        try (GgufFile g = GgufFile.open(gguf);
             io.github.amulet4j.djl.tokenizer.HfTokenizer want = io.github.amulet4j.djl.tokenizer.HfTokenizer.load(folder);
             io.github.amulet4j.djl.tokenizer.HfTokenizer got = io.github.amulet4j.djl.tokenizer.HfTokenizer.fromGguf(
                     io.github.amulet4j.formats.gguf.GgufTokenizer.of(g), gguf)) {
            for (String text : new String[] {"<|user|>\nWhat is the ozone layer?<|end|>\n<|assistant|>\n",
                    "<|system|>\nBe brief.<|end|>\n<|user|>\nHi  there<|end|>\n<|assistant|>\n",
                    "<|endoftext|>\nafter", "plain text, no special tokens\n"}) {
                assertArrayEquals(want.encode(text), got.encode(text), text);
            }
            assertEquals(2, got.encode("<|user|>\n<|end|>").length, "the newline went with <|user|>");
        }
    }

    @Test
    void phi3GgufCarriesLongropeAndGivesTheSafetensorsLogits() throws IOException {
        Path folder = dir.resolve("phi3");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_PHI3, 5, SafetensorsDtype.F32);
        ModelConfig hf = ModelConfigReader.readFolder(folder);
        Path gguf = dir.resolve("phi3.gguf");
        GgufModelWriter.convertFolder(folder, gguf, GgmlType.F32);
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals("phi3", g.metadata().string("general.architecture"));
            assertEquals(12, g.metadata().positiveInt("phi3.rope.dimension_count"));
            assertEquals(32, g.metadata().positiveInt("phi3.rope.scaling.original_context_length"));
            assertTrue(g.tensors().containsKey("blk.0.attn_qkv.weight"));
            assertTrue(g.tensors().containsKey("rope_factors_long.weight"));
            assertFalse(g.tensors().containsKey("blk.0.ffn_gate.weight"));
            assertArrayEquals(new long[] {2L * hf.intermediateSize(), hf.hiddenSize()},
                    g.tensor("blk.1.ffn_up.weight").shape());
            ModelConfig c = GgufModelConfig.read(g);
            GgufModelTest.assertSameConfig(hf, c);
            assertEquals(hf.ropeScaling().originalMaxPositionEmbeddings(), c.ropeScaling().originalMaxPositionEmbeddings());
            assertEquals(0.75, c.partialRotaryFactor());
            for (int i = 0; i < hf.rotaryDim() / 2; i++) {
                assertEquals(hf.ropeScaling().longFactor().get(i), c.ropeScaling().longFactor().get(i), 1e-6);
                assertEquals(hf.ropeScaling().shortFactor().get(i), c.ropeScaling().shortFactor().get(i), 1e-6);
            }
            RuntimeOptions java = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).build();
            try (TensorStore st = Checkpoints.open(folder);
                 DjlCausalLm want = DjlCausalLm.load(hf, st, java);
                 GgufTensorStore gs = GgufTensorStore.of(g, c);
                 DjlCausalLm got = DjlCausalLm.load(c, gs, java)) {
                for (int length : new int[] {20, 40}) {
                    int[] prompt = GgufModelTest.tokens(hf, length, length);
                    float[][] a = want.logitsAllPositions(prompt);
                    float[][] b = got.logitsAllPositions(prompt);
                    for (int p = 0; p < a.length; p++) {
                        for (int v = 0; v < a[p].length; v++) {
                            assertEquals(a[p][v], b[p][v], 1e-5f, length + " tokens, position " + p + " logit " + v);
                        }
                    }
                    assertArrayEquals(GgufModelTest.greedy(want, prompt, 6), GgufModelTest.greedy(got, prompt, 6));
                }
            }
        }
    }
}
