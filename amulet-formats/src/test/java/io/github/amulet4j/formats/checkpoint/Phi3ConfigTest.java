package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Phi-3 / Phi-3.5 / Phi-4-mini configs: the reader's fields, longrope's numbers and the fused tensor layout. */
class Phi3ConfigTest {

    /** {@code n} factors {@code start, start + step, ...} as a JSON list. */
    private static String factors(int n, double start, double step) {
        return IntStream.range(0, n).mapToObj(i -> Double.toString(start + i * step))
                .collect(Collectors.joining(",", "[", "]"));
    }

    /** Phi-3.5-mini-instruct's config.json (factor lists shortened to made-up values of the right length). */
    static String phi35Mini(String ropeType) {
        return """
                {"architectures":["Phi3ForCausalLM"],"model_type":"phi3","hidden_size":3072,"intermediate_size":8192,
                 "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"vocab_size":32064,
                 "max_position_embeddings":131072,"original_max_position_embeddings":4096,"rms_norm_eps":1e-05,
                 "rope_theta":10000.0,"sliding_window":262144,"tie_word_embeddings":false,"hidden_act":"silu",
                 "bos_token_id":1,"eos_token_id":32000,"torch_dtype":"bfloat16",
                 "rope_scaling":{"type":"%s","short_factor":%s,"long_factor":%s}}"""
                .formatted(ropeType, factors(48, 1.0, 0.01), factors(48, 1.0, 1.0));
    }

    @Test
    void phi35MiniReadsLongropeWithTheDefaultAttentionFactor() {
        ModelConfig c = ModelConfigReader.parse(phi35Mini("longrope"), "phi35/config.json");
        assertEquals("Phi3ForCausalLM", c.architecture());
        assertEquals(96, c.headDim());
        assertEquals(96, c.rotaryDim());
        assertEquals(32, c.numKvHeads());
        assertEquals(262144, c.slidingWindow());
        assertEquals(List.of(32000), c.eosTokenIds());
        assertFalse(c.tieWordEmbeddings());
        ModelConfig.RopeScaling s = c.ropeScaling();
        assertTrue(s.isLongRope());
        assertEquals(4096, s.originalMaxPositionEmbeddings());
        assertEquals(32.0, s.factor());
        assertNull(s.attentionFactor());
        LongRope rope = LongRope.of(c);
        // transformers: sqrt(1 + ln(131072 / 4096) / ln(4096))
        assertEquals(Math.sqrt(1 + Math.log(32) / Math.log(4096)), rope.attentionFactor(), 1e-7);
        assertEquals(1.1902381, rope.attentionFactor(), 1e-6);
        assertEquals(4096, rope.switchLength());
        float[] shortInv = rope.shortInverseFrequencies();
        float[] longInv = rope.longInverseFrequencies();
        for (int i = 0; i < 48; i++) {
            double plain = 1 / Math.pow(10000.0, 2.0 * i / 96);
            assertEquals(plain / (1.0 + 0.01 * i), shortInv[i], 1e-6 * plain, "short " + i);
            assertEquals(plain / (1.0 + i), longInv[i], 1e-6 * plain, "long " + i);
        }
        assertArrayEquals(shortInv, rope.inverseFrequencies(4096));
        assertArrayEquals(longInv, rope.inverseFrequencies(4097));
        assertArrayEquals(shortInv, RotaryFrequencies.inverseFrequencies(c));
    }

    @Test
    void theOlderTypeNameSuIsLongrope() {
        ModelConfig c = ModelConfigReader.parse(phi35Mini("su"), "phi3/config.json");
        assertTrue(c.ropeScaling().isLongRope());
        assertEquals(4096, LongRope.switchLength(c));
    }

    @Test
    void phi4MiniHasAPartialRotaryFactorAndATiedHead() {
        ModelConfig c = ModelConfigReader.parse("""
                {"architectures":["Phi3ForCausalLM"],"model_type":"phi3","hidden_size":3072,"intermediate_size":8192,
                 "num_hidden_layers":32,"num_attention_heads":24,"num_key_value_heads":8,"vocab_size":200064,
                 "max_position_embeddings":131072,"original_max_position_embeddings":4096,"rms_norm_eps":1e-05,
                 "rope_theta":10000.0,"sliding_window":262144,"tie_word_embeddings":true,"hidden_act":"silu",
                 "partial_rotary_factor":0.75,"bos_token_id":199999,"eos_token_id":199999,
                 "rope_scaling":{"type":"longrope","short_factor":%s,"long_factor":%s}}"""
                .formatted(factors(48, 1.0, 0.02), factors(48, 1.5, 1.0)), "phi4/config.json");
        assertEquals(128, c.headDim());
        assertEquals(96, c.rotaryDim());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(8, c.numKvHeads());
        Map<String, long[]> t = TensorLayout.expectedTensors(c);
        assertArrayEquals(new long[] {24 * 128 + 2 * 8 * 128, 3072}, t.get("model.layers.0.self_attn.qkv_proj.weight"));
        assertArrayEquals(new long[] {2 * 8192, 3072}, t.get("model.layers.0.mlp.gate_up_proj.weight"));
        assertArrayEquals(new long[] {3072, 8192}, t.get("model.layers.31.mlp.down_proj.weight"));
        assertFalse(t.containsKey("model.layers.0.self_attn.q_proj.weight"));
        assertFalse(t.containsKey("lm_head.weight"));
        assertEquals(1 + 32 * 6 + 1, t.size()); // embedding, six a block, final norm
    }

    @Test
    void aPhi3WithoutScalingRotatesPlainly() {
        ModelConfig c = ModelConfigReader.parse("""
                {"model_type":"phi3","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,
                 "num_attention_heads":4,"vocab_size":100}""", "mini/config.json");
        assertEquals("Phi3ForCausalLM", c.architecture());
        assertNull(c.ropeScaling());
        assertEquals(4096, c.maxPositions());
        assertEquals(1e-5, c.normEps());
        assertNull(c.slidingWindow());
        assertEquals(Integer.MAX_VALUE, LongRope.switchLength(c));
    }

    @Test
    void badLongropeFieldsAreRefusedByName() {
        CheckpointException length = assertThrows(CheckpointException.class, () -> ModelConfigReader.parse(
                phi35Mini("longrope").replace("\"short_factor\":[1.0,", "\"short_factor\":["), "bad/config.json"));
        assertTrue(length.getMessage().contains("bad/config.json") && length.getMessage().contains("short_factor")
                && length.getMessage().contains("48"), length.getMessage());
        CheckpointException missing = assertThrows(CheckpointException.class, () -> ModelConfigReader.parse(
                phi35Mini("longrope").replaceFirst("\"long_factor\":\\[[^]]*],?", "").replace(",}", "}"),
                "bad/config.json"));
        assertTrue(missing.getMessage().contains("long_factor"), missing.getMessage());
        CheckpointException partial = assertThrows(CheckpointException.class, () -> ModelConfigReader.parse(
                phi35Mini("longrope").replace("\"rope_theta\"", "\"partial_rotary_factor\":1.5,\"rope_theta\""),
                "bad/config.json"));
        assertTrue(partial.getMessage().contains("partial_rotary_factor"), partial.getMessage());
    }
}
