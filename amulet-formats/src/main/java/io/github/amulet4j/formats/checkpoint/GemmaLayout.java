package io.github.amulet4j.formats.checkpoint;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face tensor names and shapes of Gemma 2 and Gemma 3 text models: Llama's, with four norms a layer
 * ({@code input_layernorm}, {@code post_attention_layernorm}, {@code pre_feedforward_layernorm},
 * {@code post_feedforward_layernorm}) and, for Gemma 3, per-head {@code q_norm}/{@code k_norm}. The decoder's names
 * start with {@code model.} in a causal-LM checkpoint and with {@code language_model.model.} (transformers 4.50) or
 * {@code model.language_model.} (later versions) in a {@code Gemma3ForConditionalGeneration} one, whose vision tower
 * is not read.
 */
public final class GemmaLayout {

    /** The decoder prefix of a causal-LM checkpoint. */
    public static final String CAUSAL_LM_PREFIX = "model.";

    /** Decoder prefixes in the order they are looked for. */
    public static final List<String> PREFIXES = List.of(CAUSAL_LM_PREFIX, "language_model.model.",
            "model.language_model.");

    private GemmaLayout() {
    }

    /** The decoder prefix that {@code store} uses (the first of {@link #PREFIXES} with an embedding table). */
    public static String decoderPrefix(TensorStore store) {
        for (String p : PREFIXES) {
            if (store.contains(p + "embed_tokens.weight")) {
                return p;
            }
        }
        return CAUSAL_LM_PREFIX;
    }

    /** The untied output head's name beside decoder prefix {@code prefix}. */
    public static String headName(String prefix) {
        return "language_model.model.".equals(prefix) ? "language_model.lm_head.weight" : "lm_head.weight";
    }

    /** All tensors of a Gemma {@code config} with decoder names under {@code prefix}, in a stable order. */
    static Map<String, long[]> expectedTensors(ModelConfig config, String prefix) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long h = config.hiddenSize();
        long inter = config.intermediateSize();
        long qDim = (long) config.numHeads() * config.headDim();
        long kvDim = (long) config.numKvHeads() * config.headDim();
        t.put(prefix + "embed_tokens.weight", new long[] {config.vocabSize(), h});
        for (int i = 0; i < config.numLayers(); i++) {
            String l = prefix + "layers." + i + ".";
            t.put(l + "input_layernorm.weight", new long[] {h});
            t.put(l + "self_attn.q_proj.weight", new long[] {qDim, h});
            t.put(l + "self_attn.k_proj.weight", new long[] {kvDim, h});
            t.put(l + "self_attn.v_proj.weight", new long[] {kvDim, h});
            if (config.attentionBias()) {
                t.put(l + "self_attn.q_proj.bias", new long[] {qDim});
                t.put(l + "self_attn.k_proj.bias", new long[] {kvDim});
                t.put(l + "self_attn.v_proj.bias", new long[] {kvDim});
            }
            t.put(l + "self_attn.o_proj.weight", new long[] {h, qDim});
            if (config.attentionBias()) {
                t.put(l + "self_attn.o_proj.bias", new long[] {h});
            }
            if (config.qkNorm()) {
                t.put(l + "self_attn.q_norm.weight", new long[] {config.headDim()});
                t.put(l + "self_attn.k_norm.weight", new long[] {config.headDim()});
            }
            t.put(l + "post_attention_layernorm.weight", new long[] {h});
            t.put(l + "pre_feedforward_layernorm.weight", new long[] {h});
            t.put(l + "mlp.gate_proj.weight", new long[] {inter, h});
            t.put(l + "mlp.up_proj.weight", new long[] {inter, h});
            t.put(l + "mlp.down_proj.weight", new long[] {h, inter});
            t.put(l + "post_feedforward_layernorm.weight", new long[] {h});
        }
        t.put(prefix + "norm.weight", new long[] {h});
        if (!config.tieWordEmbeddings()) {
            t.put(headName(prefix), new long[] {config.vocabSize(), h});
        }
        return t;
    }
}
