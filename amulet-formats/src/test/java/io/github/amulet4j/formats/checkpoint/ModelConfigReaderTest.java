package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigReaderTest {

    @TempDir
    Path dir;

    private ModelConfig read(String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        return ModelConfigReader.read(f);
    }

    private CheckpointException fail(String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfigReader.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        return e;
    }

    @Test
    void llama32WithLlama3RopeScaling() throws IOException {
        ModelConfig c = read("""
                {"architectures":["LlamaForCausalLM"],"hidden_size":2048,"intermediate_size":8192,
                 "num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,
                 "max_position_embeddings":131072,"rms_norm_eps":1e-05,"rope_theta":500000.0,
                 "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,
                   "original_max_position_embeddings":8192,"rope_type":"llama3"},
                 "tie_word_embeddings":true,"bos_token_id":128000,"eos_token_id":[128001,128008,128009],
                 "hidden_act":"silu","torch_dtype":"bfloat16"}""");
        assertEquals("LlamaForCausalLM", c.architecture());
        assertEquals(2048, c.hiddenSize());
        assertEquals(16, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(8192, c.intermediateSize());
        assertEquals(128256, c.vocabSize());
        assertEquals(131072, c.maxPositions());
        assertEquals(1e-5, c.normEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new ModelConfig.RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertFalse(c.qkNorm());
        assertEquals(128000, c.bosTokenId());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void llamaDefaultsAndOldRopeTypeKey() throws IOException {
        ModelConfig c = read("""
                {"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,
                 "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,
                 "rope_scaling":{"type":"linear","factor":2.0}}""");
        assertEquals(4, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(1e-6, c.normEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(2048, c.maxPositions());
        assertFalse(c.tieWordEmbeddings());
        assertEquals("silu", c.hiddenAct());
        assertEquals(1, c.bosTokenId());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals("linear", c.ropeScaling().type());
        assertEquals(2.0, c.ropeScaling().factor());
        assertNull(c.torchDtype());
    }

    @Test
    void mistral() throws IOException {
        ModelConfig c = read("""
                {"architectures":["MistralForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
                 "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32768,
                 "rope_theta":1000000.0,"sliding_window":null,"head_dim":128}""");
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(131072, c.maxPositions());
        assertEquals(1e6, c.ropeTheta());
        assertFalse(c.attentionBias());
        assertNull(c.slidingWindow());
        ModelConfig v01 = read("""
                {"architectures":["MistralForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
                 "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,
                 "sliding_window":4096}""");
        assertEquals(4096, v01.slidingWindow());
    }

    @Test
    void slidingWindowsThatCannotRunAreRefusedByName() throws IOException {
        CheckpointException e = fail("{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":64,"
                + "\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100,"
                + "\"sliding_window\":0}");
        assertTrue(e.getMessage().contains("'sliding_window'"), e.getMessage());
        e = fail("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100,\"use_sliding_window\":true,"
                + "\"sliding_window\":32}");
        assertTrue(e.getMessage().contains("use_sliding_window") && e.getMessage().contains("Qwen2ForCausalLM"),
                e.getMessage());
    }

    @Test
    void unsupportedActivationIsRefusedByNameWhenTheConfigIsRead() throws IOException {
        CheckpointException e = fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,"
                + "\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100,"
                + "\"hidden_act\":\"geglu\"}");
        assertTrue(e.getMessage().contains("'hidden_act'") && e.getMessage().contains("'geglu'")
                && e.getMessage().contains("silu"), e.getMessage());
        e = fail("{\"architectures\":[\"GPT2LMHeadModel\"],\"n_embd\":64,\"n_layer\":2,\"n_head\":4,"
                + "\"vocab_size\":100,\"activation_function\":\"quick_gelu\"}");
        assertTrue(e.getMessage().contains("'activation_function'") && e.getMessage().contains("quick_gelu"),
                e.getMessage());
    }

    @Test
    void qwen2HasBiasesAndReadsTie() throws IOException {
        ModelConfig c = read("""
                {"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,
                 "num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"vocab_size":151936,
                 "max_position_embeddings":32768,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
                 "tie_word_embeddings":true,"bos_token_id":151643,"eos_token_id":151645,"torch_dtype":"bfloat16"}""");
        assertTrue(c.attentionBias());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(64, c.headDim());
        assertEquals(List.of(151645), c.eosTokenIds());
        ModelConfig untied = read("""
                {"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"intermediate_size":128,
                 "num_hidden_layers":1,"num_attention_heads":4,"vocab_size":100}""");
        assertFalse(untied.tieWordEmbeddings());
        assertNull(untied.bosTokenId());
        assertEquals(List.of(), untied.eosTokenIds());
    }

    @Test
    void qwen3QkNormExplicitHeadDimAndAttentionBias() throws IOException {
        ModelConfig c = read("""
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":1024,"intermediate_size":3072,
                 "num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,
                 "vocab_size":151936,"attention_bias":false,"tie_word_embeddings":true,"rope_theta":1000000}""");
        assertTrue(c.qkNorm());
        assertEquals(128, c.headDim());
        assertFalse(c.attentionBias());
        ModelConfig d = read("""
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":64,"intermediate_size":128,
                 "num_hidden_layers":1,"num_attention_heads":4,"vocab_size":100,"attention_bias":true}""");
        assertEquals(128, d.headDim()); // Qwen3Config default, not hidden/heads
        assertTrue(d.attentionBias());
    }

    @Test
    void gpt2() throws IOException {
        ModelConfig c = read("""
                {"architectures":["GPT2LMHeadModel"],"n_embd":768,"n_layer":12,"n_head":12,"n_positions":1024,
                 "n_inner":null,"vocab_size":50257,"layer_norm_epsilon":1e-05,"activation_function":"gelu_new",
                 "bos_token_id":50256,"eos_token_id":50256}""");
        assertTrue(c.isGpt2());
        assertEquals(3072, c.intermediateSize());
        assertEquals(64, c.headDim());
        assertEquals(12, c.numKvHeads());
        assertEquals(1024, c.maxPositions());
        assertTrue(c.tieWordEmbeddings());
        assertTrue(c.attentionBias());
        assertEquals("gelu_new", c.hiddenAct());
        assertEquals(List.of(50256), c.eosTokenIds());
        ModelConfig d = read("""
                {"architectures":["GPT2LMHeadModel"],"n_embd":32,"n_layer":2,"n_head":4,"n_inner":100,
                 "vocab_size":300,"activation_function":"gelu"}""");
        assertEquals(100, d.intermediateSize());
        assertEquals("gelu", d.hiddenAct());
        assertEquals(1e-5, d.normEps());
    }

    @Test
    void unsupportedArchitectureListsSupported() throws IOException {
        CheckpointException e = fail("{\"architectures\":[\"GemmaForCausalLM\"],\"hidden_size\":8}");
        assertTrue(e.getMessage().contains("GemmaForCausalLM"), e.getMessage());
        for (String a : ModelConfig.SUPPORTED_ARCHITECTURES) {
            assertTrue(e.getMessage().contains(a), e.getMessage());
        }
    }

    @Test
    void missingAndMistypedFields() throws IOException {
        String ok = "\"architectures\":[\"LlamaForCausalLM\"],\"intermediate_size\":128,\"num_hidden_layers\":2,"
                + "\"num_attention_heads\":4,\"vocab_size\":100";
        assertTrue(fail("{" + ok + "}").getMessage().contains("'hidden_size'"));
        CheckpointException e = fail("{" + ok + ",\"hidden_size\":\"64\"}");
        assertTrue(e.getMessage().contains("'hidden_size'") && e.getMessage().contains("integer"), e.getMessage());
        e = fail("{" + ok + ",\"hidden_size\":64,\"rms_norm_eps\":\"x\"}");
        assertTrue(e.getMessage().contains("'rms_norm_eps'"), e.getMessage());
        e = fail("{" + ok + ",\"hidden_size\":64,\"num_key_value_heads\":3}");
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
        e = fail("{" + ok + ",\"hidden_size\":64,\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}}");
        assertTrue(e.getMessage().contains("low_freq_factor"), e.getMessage());
        e = fail("{" + ok + ",\"hidden_size\":64,\"tie_word_embeddings\":1}");
        assertTrue(e.getMessage().contains("tie_word_embeddings"), e.getMessage());
        assertTrue(fail("{\"hidden_size\":64}").getMessage().contains("architectures"));
        assertTrue(fail("{not json").getMessage().contains("JSON"));
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> ModelConfigReader.readFolder(dir.resolve("empty")));
        assertTrue(missing.getMessage().contains("config.json"), missing.getMessage());
    }
}
