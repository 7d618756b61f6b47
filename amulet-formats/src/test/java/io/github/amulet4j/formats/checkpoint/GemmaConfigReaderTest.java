package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gemma 2 and Gemma 3 configs as the Hub has them (google/gemma-2-2b-it, google/gemma-3-1b-it,
 * google/gemma-3-4b-it's multimodal config with its nested text_config) read into {@link ModelConfig} and
 * {@link GemmaConfig}, with the defaults of transformers' Gemma2Config / Gemma3TextConfig; bad fields are refused by
 * name.
 */
class GemmaConfigReaderTest {

    private static ModelConfig parse(String json) {
        return ModelConfigReader.parse(json, "config.json");
    }

    private static String error(String json) {
        return assertThrows(CheckpointException.class, () -> parse(json)).getMessage();
    }

    @Test
    void gemma2_2bIt() {
        ModelConfig c = parse("""
                {"architectures":["Gemma2ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
                 "attn_logit_softcapping":50.0,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":[1,107],
                 "final_logit_softcapping":30.0,"head_dim":256,"hidden_act":"gelu_pytorch_tanh",
                 "hidden_activation":"gelu_pytorch_tanh","hidden_size":2304,"initializer_range":0.02,
                 "intermediate_size":9216,"max_position_embeddings":8192,"model_type":"gemma2",
                 "num_attention_heads":8,"num_hidden_layers":26,"num_key_value_heads":4,"pad_token_id":0,
                 "query_pre_attn_scalar":256,"rms_norm_eps":1e-06,"rope_theta":10000.0,"sliding_window":4096,
                 "torch_dtype":"float32","transformers_version":"4.42.4","use_cache":true,"vocab_size":256000}""");
        ModelConfig shape = ModelShapes.gemma2_2b(); // the same but for the dtype (the Hub's is float32)
        assertEquals("float32", c.torchDtype());
        assertEquals(shape, new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(),
                c.ropeTheta(), c.ropeScaling(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(),
                c.bosTokenId(), c.eosTokenIds(), "bfloat16", c.slidingWindow(), c.gemma(), c.partialRotaryFactor()));
        GemmaConfig g = c.gemma();
        assertEquals(256.0, g.queryPreAttnScalar());
        assertEquals(50.0, g.attnLogitSoftcapping());
        assertEquals(30.0, g.finalLogitSoftcapping());
        assertEquals(4096, g.slidingWindow());
        assertNull(g.localRopeTheta());
        // layer 0 slides, layer 1 attends to everything, and so on
        assertTrue(g.sliding(0));
        assertFalse(g.sliding(1));
        assertTrue(g.sliding(24));
        assertFalse(g.sliding(25));
        assertEquals(4096, c.slidingWindow(0));
        assertNull(c.slidingWindow(1));
        assertNull(c.slidingWindow(), "no uniform window: the per-layer one is Gemma's");
        assertEquals(ModelShapes.gemma2_2b().gemma(), g);
    }

    @Test
    void gemma3_1bIt() {
        ModelConfig c = parse("""
                {"architectures":["Gemma3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
                 "attn_logit_softcapping":null,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":[1,106],
                 "final_logit_softcapping":null,"head_dim":256,"hidden_activation":"gelu_pytorch_tanh",
                 "hidden_size":1152,"initializer_range":0.02,"intermediate_size":6912,"max_position_embeddings":32768,
                 "model_type":"gemma3_text","num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,
                 "pad_token_id":0,"query_pre_attn_scalar":256,"rms_norm_eps":1e-06,"rope_local_base_freq":10000,
                 "rope_scaling":null,"rope_theta":1000000,"sliding_window":512,"sliding_window_pattern":6,
                 "torch_dtype":"bfloat16","transformers_version":"4.50.0.dev0","use_cache":true,"vocab_size":262144}""");
        assertEquals(ModelShapes.gemma3_1b(), c);
        GemmaConfig g = c.gemma();
        assertNull(g.attnLogitSoftcapping());
        assertNull(g.finalLogitSoftcapping());
        assertTrue(c.qkNorm());
        for (int l = 0; l < 26; l++) {
            assertEquals((l + 1) % 6 != 0, g.sliding(l), "layer " + l);
            assertEquals(g.sliding(l), g.localRope(l), "layer " + l);
        }
        assertEquals(10_000.0, g.localRopeTheta());
        assertEquals(1_000_000.0, c.ropeTheta());
    }

    @Test
    void gemma3_4bMultimodalReadsItsTextConfigWithTheDefaultsOfGemma3TextConfig() {
        ModelConfig c = parse("""
                {"architectures":["Gemma3ForConditionalGeneration"],"boi_token_index":255999,"eoi_token_index":256000,
                 "eos_token_id":[1,106],"image_token_index":262144,"initializer_range":0.02,"mm_tokens_per_image":256,
                 "model_type":"gemma3",
                 "text_config":{"hidden_size":2560,"intermediate_size":10240,"model_type":"gemma3_text",
                   "num_hidden_layers":34,"rope_scaling":{"factor":8.0,"rope_type":"linear"},"sliding_window":1024},
                 "torch_dtype":"bfloat16","transformers_version":"4.50.0.dev0",
                 "vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,
                   "model_type":"siglip_vision_model","num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,
                   "vision_use_head":false}}""");
        assertEquals("Gemma3ForCausalLM", c.architecture());
        assertEquals(2560, c.hiddenSize());
        assertEquals(34, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(4, c.numKvHeads());
        assertEquals(256, c.headDim());
        assertEquals(262_208, c.vocabSize());
        assertEquals(new ModelConfig.RopeScaling("linear", 8.0, 1.0, 1.0, 0), c.ropeScaling());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertEquals(List.of(1, 106), c.eosTokenIds());
        assertEquals(2, c.bosTokenId());
        assertEquals("bfloat16", c.torchDtype());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(1024, c.gemma().slidingWindow());
        assertFalse(c.gemma().sliding(5));
        assertTrue(c.gemma().sliding(6));
    }

    @Test
    void layerTypesAndTransformers5RopeParametersWin() {
        ModelConfig c = parse("""
                {"architectures":["Gemma3ForCausalLM"],"hidden_size":64,"num_hidden_layers":3,"num_attention_heads":2,
                 "num_key_value_heads":1,"head_dim":32,"intermediate_size":96,"vocab_size":100,"sliding_window":8,
                 "layer_types":["full_attention","sliding_attention","full_attention"],
                 "rope_parameters":{"full_attention":{"rope_type":"linear","factor":2.0,"rope_theta":500000.0},
                                    "sliding_attention":{"rope_type":"default","rope_theta":20000.0}}}""");
        assertEquals(List.of(false, true, false), c.gemma().slidingLayers());
        assertEquals(500_000.0, c.ropeTheta());
        assertEquals("linear", c.ropeScaling().type());
        assertEquals(20_000.0, c.gemma().localRopeTheta());
        // a Gemma 2 config with the caps switched off and no window
        ModelConfig g2 = parse("""
                {"model_type":"gemma2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":2,"head_dim":32,
                 "num_key_value_heads":1,"intermediate_size":96,"vocab_size":100,"sliding_window":null,
                 "attn_logit_softcapping":null,"final_logit_softcapping":null}""");
        assertEquals("Gemma2ForCausalLM", g2.architecture());
        assertNull(g2.gemma().attnLogitSoftcapping());
        assertNull(g2.gemma().finalLogitSoftcapping());
        assertNull(g2.slidingWindow(0));
    }

    @Test
    void badGemmaFieldsAreRefusedByName() {
        String base = "\"architectures\":[\"Gemma3ForCausalLM\"],\"hidden_size\":64,\"num_hidden_layers\":2,"
                + "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"head_dim\":32,\"intermediate_size\":96,"
                + "\"vocab_size\":100";
        assertTrue(error("{" + base + ",\"layer_types\":[\"sliding_attention\"]}").contains("'layer_types'"));
        assertTrue(error("{" + base + ",\"layer_types\":[\"sliding_attention\",\"chunked\"]}").contains("'layer_types'"));
        assertTrue(error("{" + base + ",\"attn_logit_softcapping\":-1}").contains("'attn_logit_softcapping'"));
        assertTrue(error("{" + base + ",\"sliding_window\":0}").contains("'sliding_window'"));
        assertTrue(error("{" + base + ",\"sliding_window_pattern\":0}").contains("sliding_window_pattern"));
        assertTrue(error("{" + base + ",\"use_bidirectional_attention\":true}").contains("use_bidirectional_attention"));
        assertTrue(error("{\"architectures\":[\"Gemma3ForConditionalGeneration\"]}").contains("text_config"));
        assertTrue(error("{" + base + ",\"num_key_value_heads\":3,\"num_attention_heads\":4}")
                .contains("num_key_value_heads"));
    }

    @Test
    void embeddingScaleIsRoundedToTheModelDtype() {
        assertEquals((float) Math.sqrt(1152), GemmaConfig.embeddingScale(1152, "float32"));
        assertEquals((float) Math.sqrt(1152), GemmaConfig.embeddingScale(1152, null));
        assertEquals(34.0f, GemmaConfig.embeddingScale(1152, "bfloat16"));
        assertEquals(48.0f, GemmaConfig.embeddingScale(2304, "bfloat16"));
        // float16 keeps 10 mantissa bits: 33.9411... becomes 33.9375
        assertEquals(33.9375f, GemmaConfig.embeddingScale(1152, "float16"));
    }

    @Test
    void patternAndValidation() {
        List<Boolean> expected = new ArrayList<>(List.of(true, true, true, true, true, false, true));
        assertEquals(expected, GemmaConfig.pattern(7, 6));
        assertEquals(List.of(true, false, true), GemmaConfig.pattern(3, 2));
        assertThrows(IllegalArgumentException.class, () -> new GemmaConfig(0, null, null, null, List.of(), null));
        assertThrows(IllegalArgumentException.class,
                () -> ModelShapes.tinyGemma2().withGemma(new GemmaConfig(1, null, null, null, List.of(true), null)));
        assertEquals(List.of(GemmaConfig.SLIDING, GemmaConfig.FULL, GemmaConfig.SLIDING),
                ModelShapes.tinyGemma2().gemma().layerTypes());
    }
}
