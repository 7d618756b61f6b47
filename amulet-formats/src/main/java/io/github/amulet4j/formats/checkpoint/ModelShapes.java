package io.github.amulet4j.formats.checkpoint;

import java.util.List;

/**
 * {@link ModelConfig} presets: the full-size shapes used by the benchmarks (Qwen2.5-0.5B, Llama-3.2-1B, Gemma-2-2B,
 * Gemma-3-1B, Phi-3.5-mini, Phi-4-mini) and tiny variants of every supported architecture for tests.
 */
public final class ModelShapes {

    private ModelShapes() {
    }

    /** Qwen2.5-0.5B: hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocabulary 151,936, tied. */
    public static ModelConfig qwen25_05b() {
        return new ModelConfig("Qwen2ForCausalLM", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e-6, 1_000_000.0,
                null, true, true, false, "silu", 151643, List.of(151645, 151643), "bfloat16");
    }

    /** Llama-3.2-1B: hidden 2048, 16 layers, 32 heads, 8 KV heads, intermediate 8192, vocabulary 128,256, tied, llama3 rope. */
    public static ModelConfig llama32_1b() {
        return new ModelConfig("LlamaForCausalLM", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 1e-5, 500_000.0,
                new ModelConfig.RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), true, false, false, "silu", 128000,
                List.of(128001, 128008, 128009), "bfloat16");
    }

    /**
     * Llama-3.1-8B: hidden 4096, 32 layers, 32 heads, 8 KV heads, intermediate 14,336, vocabulary 128,256, untied
     * head, llama3 rope (the paper's largest model family; 16 GB in BF16).
     */
    public static ModelConfig llama31_8b() {
        return new ModelConfig("LlamaForCausalLM", 4096, 32, 32, 8, 128, 14336, 128256, 131072, 1e-5, 500_000.0,
                new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), false, false, false, "silu", 128000,
                List.of(128001, 128008, 128009), "bfloat16");
    }

    /** A tiny Llama with llama3 rope scaling (small original context so that all three frequency bands occur). */
    public static ModelConfig tinyLlama() {
        return new ModelConfig("LlamaForCausalLM", 64, 2, 4, 2, 16, 96, 211, 256, 1e-5, 10_000.0,
                new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 32), false, false, false, "silu", 1, List.of(2),
                "float32");
    }

    /** A tiny Mistral (GQA, untied head, no rope scaling). */
    public static ModelConfig tinyMistral() {
        return new ModelConfig("MistralForCausalLM", 48, 2, 4, 2, 12, 80, 173, 256, 1e-5, 10_000.0, null, false,
                false, false, "silu", 1, List.of(2), "float32");
    }

    /** A tiny Qwen2 (q/k/v biases, tied embeddings). */
    public static ModelConfig tinyQwen2() {
        return new ModelConfig("Qwen2ForCausalLM", 64, 2, 4, 2, 16, 112, 257, 256, 1e-6, 1_000_000.0, null, true,
                true, false, "silu", null, List.of(3), "float32");
    }

    /** A tiny Qwen3 (q/k RMSNorm, explicit head_dim larger than hidden / heads). */
    public static ModelConfig tinyQwen3() {
        return new ModelConfig("Qwen3ForCausalLM", 32, 2, 4, 2, 16, 64, 151, 256, 1e-6, 1_000_000.0, null, true,
                false, true, "silu", null, List.of(3), "float32");
    }

    /** A tiny GPT-2 (LayerNorm, learned positions, Conv1D layout, tied head). */
    public static ModelConfig tinyGpt2() {
        return new ModelConfig("GPT2LMHeadModel", 48, 2, 4, 4, 12, 192, 199, 64, 1e-5, 0.0, null, true, false, false,
                "gelu_new", 0, List.of(0), "float32");
    }

    /**
     * Gemma-2-2B: hidden 2304, 26 layers (sliding window 4096 on the even ones), 8 heads, 4 KV heads, head_dim 256,
     * intermediate 9216, vocabulary 256,000, tied, attention soft-capping 50 and final 30.
     */
    public static ModelConfig gemma2_2b() {
        return new ModelConfig("Gemma2ForCausalLM", 2304, 26, 8, 4, 256, 9216, 256000, 8192, 1e-6, 10_000.0, null,
                true, false, false, "gelu_pytorch_tanh", 2, List.of(1, 107), "bfloat16", null,
                new GemmaConfig(256, 50.0, 30.0, 4096, GemmaConfig.pattern(26, 2), null), 1.0);
    }

    /**
     * Gemma-3-1B: hidden 1152, 26 layers (five sliding layers of window 512 to one global), 4 heads, 1 KV head,
     * head_dim 256, intermediate 6912, vocabulary 262,144, tied, q/k norms, local rotary base 10,000 and global
     * 1,000,000.
     */
    public static ModelConfig gemma3_1b() {
        return new ModelConfig("Gemma3ForCausalLM", 1152, 26, 4, 1, 256, 6912, 262144, 32768, 1e-6, 1_000_000.0,
                null, true, false, true, "gelu_pytorch_tanh", 2, List.of(1, 106), "bfloat16", null,
                new GemmaConfig(256, null, null, 512, GemmaConfig.pattern(26, 6), 10_000.0), 1.0);
    }

    /**
     * A tiny Gemma 2: layers sliding, global, sliding (window 5), head_dim 16 beside hidden / heads = 12,
     * query_pre_attn_scalar 24, soft-capping that bites on weights of spread 0.1 (attention 0.5, logits 1.0).
     */
    public static ModelConfig tinyGemma2() {
        return new ModelConfig("Gemma2ForCausalLM", 48, 3, 4, 2, 16, 80, 181, 256, 1e-6, 10_000.0, null, true,
                false, false, "gelu_pytorch_tanh", 2, List.of(1), "float32", null,
                new GemmaConfig(24, 0.5, 1.0, 5, GemmaConfig.pattern(3, 2), null), 1.0);
    }

    /**
     * A tiny Gemma 3: q/k norms, layers sliding, sliding, global, sliding (window 6), one KV head, local rotary base
     * 10,000 and global 1,000,000 with linear scaling (factor 4).
     */
    public static ModelConfig tinyGemma3() {
        return new ModelConfig("Gemma3ForCausalLM", 32, 4, 4, 1, 16, 64, 163, 256, 1e-6, 1_000_000.0,
                new ModelConfig.RopeScaling("linear", 4.0, 1.0, 1.0, 0), true, false, true, "gelu_pytorch_tanh", 2,
                List.of(1, 106), "float32", null, new GemmaConfig(20, null, null, 6, GemmaConfig.pattern(4, 3), 10_000.0),
                1.0);
    }

    /**
     * Phi-3.5-mini: hidden 3072, 32 layers, 32 heads (no grouping), head_dim 96, intermediate 8192, vocabulary 32,064,
     * untied head, longrope from 4096 to 131,072 positions (3.8 billion parameters). The factor lists are illustrative
     * ({@link #illustrativeLongRope}); a real checkpoint's config.json carries its own.
     */
    public static ModelConfig phi35Mini() {
        return new ModelConfig("Phi3ForCausalLM", 3072, 32, 32, 32, 96, 8192, 32064, 131072, 1e-5, 10_000.0,
                illustrativeLongRope(48, 4096, 131072), false, false, false, "silu", 1, List.of(32000), "bfloat16",
                262144);
    }

    /**
     * Phi-4-mini: hidden 3072, 32 layers, 24 heads, 8 KV heads, head_dim 128 of which 96 rotate (partial rotary factor
     * 0.75), intermediate 8192, vocabulary 200,064, tied, longrope from 4096 to 131,072 positions (illustrative
     * factors).
     */
    public static ModelConfig phi4Mini() {
        return new ModelConfig("Phi3ForCausalLM", 3072, 32, 24, 8, 128, 8192, 200064, 131072, 1e-5, 10_000.0,
                illustrativeLongRope(48, 4096, 131072), true, false, false, "silu", 199999, List.of(199999, 200020),
                "bfloat16", 262144).withPartialRotaryFactor(0.75);
    }

    /** A tiny Phi-3 (fused projections, longrope from 32 positions, partial rotary factor 0.75, untied head). */
    public static ModelConfig tinyPhi3() {
        return new ModelConfig("Phi3ForCausalLM", 64, 2, 4, 2, 16, 96, 199, 256, 1e-5, 10_000.0,
                illustrativeLongRope(6, 32, 256), false, false, false, "silu", 1, List.of(2), "float32", null)
                .withPartialRotaryFactor(0.75);
    }

    /**
     * Longrope scaling from {@code original} to {@code max} positions over {@code frequencies} rotary frequencies:
     * short factors rising from 1 to 1.5 and long factors from 1 to {@code max / original}, over the frequencies (slow
     * frequencies stretched most, as the published lists do), with the default attention factor.
     */
    public static ModelConfig.RopeScaling illustrativeLongRope(int frequencies, int original, int max) {
        List<Double> shortFactor = new java.util.ArrayList<>();
        List<Double> longFactor = new java.util.ArrayList<>();
        double stretch = (double) max / original;
        for (int i = 0; i < frequencies; i++) {
            double t = frequencies == 1 ? 1 : (double) i / (frequencies - 1);
            shortFactor.add(1 + 0.5 * t);
            longFactor.add(Math.pow(stretch, t));
        }
        return new ModelConfig.RopeScaling("longrope", stretch, 1, 1, original, shortFactor, longFactor, null);
    }

    /** All tiny configurations, one per architecture. */
    public static List<ModelConfig> tinyAll() {
        return List.of(tinyLlama(), tinyMistral(), tinyQwen2(), tinyQwen3(), tinyGpt2(), tinyGemma2(), tinyGemma3(),
                tinyPhi3());
    }
}
