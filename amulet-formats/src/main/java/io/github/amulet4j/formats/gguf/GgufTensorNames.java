package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.GemmaLayout;
import io.github.amulet4j.formats.checkpoint.ModelConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GGUF tensor names ({@code token_embd.weight}, {@code blk.3.attn_q.weight}, ...) and the Hugging Face names the
 * model code reads ({@code model.embed_tokens.weight}, {@code model.layers.3.self_attn.q_proj.weight}, ...), in
 * both directions, for the Llama family (Llama, Mistral, Qwen2, Qwen3), Gemma 2 / Gemma 3, Phi-3 and GPT-2 (names without the
 * {@code transformer.} prefix), as llama.cpp's {@code gguf-py} tensor map names them.
 */
public final class GgufTensorNames {

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    private static final Pattern HF_LLAMA_BLOCK = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern HF_GPT2_BLOCK = Pattern.compile("h\\.(\\d+)\\.(.+)");

    /** GGUF name (after {@code blk.N.}) to Hugging Face name (after {@code model.layers.N.}), Llama family. */
    private static final Map<String, String> LLAMA_BLOCK = pairs(
            "attn_norm.weight", "input_layernorm.weight",
            "attn_q.weight", "self_attn.q_proj.weight",
            "attn_q.bias", "self_attn.q_proj.bias",
            "attn_k.weight", "self_attn.k_proj.weight",
            "attn_k.bias", "self_attn.k_proj.bias",
            "attn_v.weight", "self_attn.v_proj.weight",
            "attn_v.bias", "self_attn.v_proj.bias",
            "attn_output.weight", "self_attn.o_proj.weight",
            "attn_output.bias", "self_attn.o_proj.bias",
            "attn_q_norm.weight", "self_attn.q_norm.weight",
            "attn_k_norm.weight", "self_attn.k_norm.weight",
            "ffn_norm.weight", "post_attention_layernorm.weight",
            "ffn_gate.weight", "mlp.gate_proj.weight",
            "ffn_up.weight", "mlp.up_proj.weight",
            "ffn_down.weight", "mlp.down_proj.weight");
    /**
     * Gemma 2 / Gemma 3 blocks: Llama's names, but {@code ffn_norm} is the pre-feedforward norm and the outputs of
     * attention and MLP have norms of their own ({@code post_attention_norm}, {@code post_ffw_norm}).
     */
    private static final Map<String, String> GEMMA_BLOCK = gemmaBlock();
    /** Phi-3's blocks: fused {@code attn_qkv} (q, k, v rows) and {@code ffn_up} holding gate and up rows. */
    private static final Map<String, String> PHI3_BLOCK = pairs(
            "attn_norm.weight", "input_layernorm.weight",
            "attn_qkv.weight", "self_attn.qkv_proj.weight",
            "attn_output.weight", "self_attn.o_proj.weight",
            "ffn_norm.weight", "post_attention_layernorm.weight",
            "ffn_up.weight", "mlp.gate_up_proj.weight",
            "ffn_down.weight", "mlp.down_proj.weight");
    private static final Map<String, String> LLAMA_GLOBAL = pairs(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight",
            // a sequence classifier's head (llama.cpp's name for the Qwen3 rerankers' head)
            "cls.output.weight", "score.weight");
    private static final Map<String, String> GPT2_BLOCK = pairs(
            "attn_norm.weight", "ln_1.weight",
            "attn_norm.bias", "ln_1.bias",
            "attn_qkv.weight", "attn.c_attn.weight",
            "attn_qkv.bias", "attn.c_attn.bias",
            "attn_output.weight", "attn.c_proj.weight",
            "attn_output.bias", "attn.c_proj.bias",
            "ffn_norm.weight", "ln_2.weight",
            "ffn_norm.bias", "ln_2.bias",
            "ffn_up.weight", "mlp.c_fc.weight",
            "ffn_up.bias", "mlp.c_fc.bias",
            "ffn_down.weight", "mlp.c_proj.weight",
            "ffn_down.bias", "mlp.c_proj.bias");
    private static final Map<String, String> GPT2_GLOBAL = pairs(
            "token_embd.weight", "wte.weight",
            "position_embd.weight", "wpe.weight",
            "output_norm.weight", "ln_f.weight",
            "output_norm.bias", "ln_f.bias",
            "output.weight", "lm_head.weight");

    /** GPT-2 weights that Hugging Face stores as Conv1D {@code [in, out]} and GGUF as {@code [out, in]}. */
    private static final List<String> GPT2_CONV1D = List.of("attn_qkv.weight", "attn_output.weight",
            "ffn_up.weight", "ffn_down.weight");

    private GgufTensorNames() {
    }

    /** The block-name table of the config's family. */
    private static Map<String, String> block(ModelConfig config) {
        return config.isGpt2() ? GPT2_BLOCK : config.isGemma() ? GEMMA_BLOCK : config.isPhi3() ? PHI3_BLOCK
                : LLAMA_BLOCK;
    }

    private static Map<String, String> gemmaBlock() {
        Map<String, String> m = new LinkedHashMap<>(LLAMA_BLOCK);
        m.put("post_attention_norm.weight", "post_attention_layernorm.weight");
        m.put("ffn_norm.weight", "pre_feedforward_layernorm.weight");
        m.put("post_ffw_norm.weight", "post_feedforward_layernorm.weight");
        return m;
    }

    /**
     * Whether a Gemma GGUF tensor is a norm weight, which llama.cpp's converter stores as {@code 1 + w} (Gemma's norms
     * multiply by {@code 1 + w}; llama.cpp's multiply by the weight as stored).
     */
    public static boolean isGemmaNorm(String gguf) {
        return gguf.endsWith("norm.weight");
    }

    private static Map<String, String> pairs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The Hugging Face name of a GGUF tensor, or null when the model code does not read it. */
    public static String toHf(String gguf, ModelConfig config) {
        boolean gpt2 = config.isGpt2();
        Matcher m = BLOCK.matcher(gguf);
        if (m.matches()) {
            String hf = block(config).get(m.group(2));
            if (hf == null) {
                return null;
            }
            return (gpt2 ? "h." : "model.layers.") + m.group(1) + "." + hf;
        }
        return (gpt2 ? GPT2_GLOBAL : LLAMA_GLOBAL).get(gguf);
    }

    /** The GGUF name of a Hugging Face tensor name. @throws IllegalArgumentException when it has none */
    public static String toGguf(String hf, ModelConfig config) {
        boolean gpt2 = config.isGpt2();
        String name = gpt2 && hf.startsWith("transformer.") ? hf.substring("transformer.".length()) : hf;
        if (config.isGemma()) {
            // a Gemma3ForConditionalGeneration checkpoint's decoder names read as a causal LM's
            name = name.replace("language_model.lm_head.", "lm_head.");
            for (String p : GemmaLayout.PREFIXES) {
                if (name.startsWith(p)) {
                    name = GemmaLayout.CAUSAL_LM_PREFIX + name.substring(p.length());
                }
            }
        }
        Matcher m = (gpt2 ? HF_GPT2_BLOCK : HF_LLAMA_BLOCK).matcher(name);
        Map<String, String> table = m.matches() ? block(config) : (gpt2 ? GPT2_GLOBAL : LLAMA_GLOBAL);
        String wanted = m.matches() ? m.group(2) : name;
        for (Map.Entry<String, String> e : table.entrySet()) {
            if (e.getValue().equals(wanted)) {
                return m.matches() ? "blk." + m.group(1) + "." + e.getKey() : e.getKey();
            }
        }
        throw new IllegalArgumentException("tensor '" + hf + "' has no GGUF name for " + config.architecture());
    }

    /** Whether a GPT-2 GGUF tensor is stored transposed relative to Hugging Face's Conv1D layout. */
    static boolean isGpt2Conv1d(String gguf) {
        Matcher m = BLOCK.matcher(gguf);
        return m.matches() && GPT2_CONV1D.contains(m.group(2));
    }

    /**
     * Whether llama.cpp permuted the rows of this tensor for its rotary layout (the q and k projections of a
     * {@code llama} model, weights and biases): see {@link GgufTensorStore}.
     */
    static boolean isPermutedQk(String gguf) {
        Matcher m = BLOCK.matcher(gguf);
        return m.matches() && (m.group(2).startsWith("attn_q.") || m.group(2).startsWith("attn_k."));
    }
}
