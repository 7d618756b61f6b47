package io.github.amulet4j.formats.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Hugging Face tensor names and shapes that a {@link ModelConfig} implies: what
 * the model loaders read and what {@link RandomCheckpoint} writes.
 *
 * <p>Llama-family names start with {@code model.}; GPT-2 names are given with a prefix (real GPT-2
 * checkpoints are saved with or without {@code transformer.}). Shapes are as stored: {@code [out, in]}
 * for Llama-family linear layers, {@code [in, out]} for GPT-2's Conv1D.
 */
public final class TensorLayout {

    /** The prefix that {@code save_pretrained} writes in front of GPT-2 tensor names. */
    public static final String GPT2_PREFIX = "transformer.";

    private TensorLayout() {
    }

    /**
     * All tensors the model needs, in a stable order; the head ({@code lm_head.weight}) only when the
     * embeddings are not tied. GPT-2 names use {@link #GPT2_PREFIX}.
     */
    public static Map<String, long[]> expectedTensors(ModelConfig config) {
        return expectedTensors(config, config.isGemma() ? GemmaLayout.CAUSAL_LM_PREFIX : GPT2_PREFIX);
    }

    /**
     * As {@link #expectedTensors(ModelConfig)}, with the given prefix for GPT-2 names ("" or "transformer."), or for a
     * Gemma model the prefix of its decoder's names (one of {@link GemmaLayout#PREFIXES}).
     */
    public static Map<String, long[]> expectedTensors(ModelConfig config, String gpt2Prefix) {
        validate(config);
        if (config.isGemma()) {
            // a GPT-2 prefix ("" or "transformer.", the default of callers that know no Gemma) means "model."
            return GemmaLayout.expectedTensors(config, GemmaLayout.PREFIXES.contains(gpt2Prefix) ? gpt2Prefix
                    : GemmaLayout.CAUSAL_LM_PREFIX);
        }
        Map<String, long[]> t = new LinkedHashMap<>();
        long h = config.hiddenSize();
        long inter = config.intermediateSize();
        long vocab = config.vocabSize();
        if (config.isGpt2()) {
            String p = gpt2Prefix;
            t.put(p + "wte.weight", shape(vocab, h));
            t.put(p + "wpe.weight", shape(config.maxPositions(), h));
            for (int i = 0; i < config.numLayers(); i++) {
                String l = p + "h." + i + ".";
                t.put(l + "ln_1.weight", shape(h));
                t.put(l + "ln_1.bias", shape(h));
                t.put(l + "attn.c_attn.weight", shape(h, 3 * h));
                t.put(l + "attn.c_attn.bias", shape(3 * h));
                t.put(l + "attn.c_proj.weight", shape(h, h));
                t.put(l + "attn.c_proj.bias", shape(h));
                t.put(l + "ln_2.weight", shape(h));
                t.put(l + "ln_2.bias", shape(h));
                t.put(l + "mlp.c_fc.weight", shape(h, inter));
                t.put(l + "mlp.c_fc.bias", shape(inter));
                t.put(l + "mlp.c_proj.weight", shape(inter, h));
                t.put(l + "mlp.c_proj.bias", shape(h));
            }
            t.put(p + "ln_f.weight", shape(h));
            t.put(p + "ln_f.bias", shape(h));
            if (!config.tieWordEmbeddings()) {
                t.put("lm_head.weight", shape(vocab, h));
            }
            return t;
        }
        long qDim = (long) config.numHeads() * config.headDim();
        long kvDim = (long) config.numKvHeads() * config.headDim();
        t.put("model.embed_tokens.weight", shape(vocab, h));
        for (int i = 0; i < config.numLayers(); i++) {
            String l = "model.layers." + i + ".";
            t.put(l + "input_layernorm.weight", shape(h));
            if (config.isPhi3()) {
                putPhi3Layer(t, l, h, qDim, kvDim, inter);
                continue;
            }
            t.put(l + "self_attn.q_proj.weight", shape(qDim, h));
            t.put(l + "self_attn.k_proj.weight", shape(kvDim, h));
            t.put(l + "self_attn.v_proj.weight", shape(kvDim, h));
            if (config.attentionBias()) {
                t.put(l + "self_attn.q_proj.bias", shape(qDim));
                t.put(l + "self_attn.k_proj.bias", shape(kvDim));
                t.put(l + "self_attn.v_proj.bias", shape(kvDim));
            }
            t.put(l + "self_attn.o_proj.weight", shape(h, qDim));
            if (hasOutputProjectionBias(config)) {
                t.put(l + "self_attn.o_proj.bias", shape(h));
            }
            if (config.qkNorm()) {
                t.put(l + "self_attn.q_norm.weight", shape(config.headDim()));
                t.put(l + "self_attn.k_norm.weight", shape(config.headDim()));
            }
            t.put(l + "post_attention_layernorm.weight", shape(h));
            t.put(l + "mlp.gate_proj.weight", shape(inter, h));
            t.put(l + "mlp.up_proj.weight", shape(inter, h));
            t.put(l + "mlp.down_proj.weight", shape(h, inter));
        }
        t.put("model.norm.weight", shape(h));
        if (!config.tieWordEmbeddings()) {
            t.put("lm_head.weight", shape(vocab, h));
        }
        return t;
    }

    /**
     * Phi-3's block after its input norm: q, k and v rows fused in {@code self_attn.qkv_proj} (in that order), gate and
     * up rows fused in {@code mlp.gate_up_proj} (gate first), no biases.
     */
    private static void putPhi3Layer(Map<String, long[]> t, String l, long h, long qDim, long kvDim, long inter) {
        t.put(l + "self_attn.qkv_proj.weight", shape(qDim + 2 * kvDim, h));
        t.put(l + "self_attn.o_proj.weight", shape(h, qDim));
        t.put(l + "post_attention_layernorm.weight", shape(h));
        t.put(l + "mlp.gate_up_proj.weight", shape(2 * inter, h));
        t.put(l + "mlp.down_proj.weight", shape(h, inter));
    }

    /**
     * Whether {@code o_proj} carries a bias: Llama, Mistral and Qwen3 put {@code attention_bias} on all four
     * projections; Qwen2 has biases on q/k/v only.
     */
    public static boolean hasOutputProjectionBias(ModelConfig config) {
        return config.attentionBias() && !"Qwen2ForCausalLM".equals(config.architecture());
    }

    /** Whether a tensor name is a norm weight (drawn around 1 by {@link RandomCheckpoint}). */
    static boolean isNormWeight(String name) {
        return name.endsWith("norm.weight") || name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight")
                || name.endsWith("ln_f.weight");
    }

    /**
     * Checks the fields the forward pass depends on.
     *
     * @throws IllegalArgumentException naming the architecture or field that is unsupported or inconsistent
     */
    public static void validate(ModelConfig c) {
        if (!ModelConfig.SUPPORTED_ARCHITECTURES.contains(c.architecture())) {
            throw new IllegalArgumentException("unsupported architecture '" + c.architecture() + "'; supported: "
                    + ModelConfig.SUPPORTED_ARCHITECTURES);
        }
        if (c.architecture().startsWith("Gemma") != c.isGemma()) {
            throw new IllegalArgumentException(c.architecture() + (c.isGemma() ? " has" : " needs") + " Gemma fields"
                    + " (ModelConfig.gemma)");
        }
        positive("hiddenSize", c.hiddenSize());
        positive("numLayers", c.numLayers());
        positive("numHeads", c.numHeads());
        positive("numKvHeads", c.numKvHeads());
        positive("headDim", c.headDim());
        positive("intermediateSize", c.intermediateSize());
        positive("vocabSize", c.vocabSize());
        positive("maxPositions", c.maxPositions());
        if (c.numHeads() % c.numKvHeads() != 0) {
            throw new IllegalArgumentException("numHeads (" + c.numHeads() + ") must be a multiple of numKvHeads ("
                    + c.numKvHeads() + ")");
        }
        if (c.isGpt2()) {
            if (c.numKvHeads() != c.numHeads() || (long) c.numHeads() * c.headDim() != c.hiddenSize()) {
                throw new IllegalArgumentException("GPT2LMHeadModel needs numKvHeads == numHeads and numHeads * headDim"
                        + " == hiddenSize, got heads=" + c.numHeads() + ", kvHeads=" + c.numKvHeads() + ", headDim="
                        + c.headDim() + ", hidden=" + c.hiddenSize());
            }
        } else if (c.headDim() % 2 != 0) {
            throw new IllegalArgumentException("headDim must be even for rotary embeddings, got " + c.headDim());
        } else if (c.rotaryDim() < 2 || c.rotaryDim() % 2 != 0) {
            throw new IllegalArgumentException("rotary dimensions (headDim " + c.headDim() + " x partialRotaryFactor "
                    + c.partialRotaryFactor() + ") must be even and >= 2, got " + c.rotaryDim());
        }
        if (c.isPhi3() && (c.attentionBias() || c.qkNorm())) {
            throw new IllegalArgumentException("Phi3ForCausalLM has no attention biases and no q/k norms");
        }
        if (!(c.normEps() > 0)) {
            throw new IllegalArgumentException("normEps must be > 0, got " + c.normEps());
        }
        if (!ModelConfig.SUPPORTED_ACTIVATIONS.contains(c.effectiveHiddenAct())) {
            throw new IllegalArgumentException("unsupported hidden_act '" + c.effectiveHiddenAct() + "' for "
                    + c.architecture() + "; supported: " + String.join(", ", ModelConfig.SUPPORTED_ACTIVATIONS));
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be > 0, got " + value);
        }
    }

    private static long[] shape(long... dims) {
        return dims;
    }
}
