package io.github.amulet4j.formats.checkpoint;

import java.util.List;
import java.util.Objects;

/**
 * The fields of a Hugging Face {@code config.json} that the transformer needs, normalised across
 * families (GPT-2's {@code n_embd}/{@code n_layer}/{@code n_head} land in the same fields as Llama's).
 *
 * @param architecture         the {@code architectures[0]} entry, e.g. {@code LlamaForCausalLM}
 * @param hiddenSize           model width
 * @param numLayers            number of decoder blocks
 * @param numHeads             attention heads
 * @param numKvHeads           key/value heads (grouped-query attention); equals numHeads when absent
 * @param headDim              per-head width ({@code head_dim}, else hiddenSize / numHeads)
 * @param intermediateSize     MLP width ({@code n_inner} or 4 x hidden for GPT-2)
 * @param vocabSize            rows of the embedding / logits per position
 * @param maxPositions         {@code max_position_embeddings} ({@code n_positions} for GPT-2)
 * @param normEps              RMSNorm / LayerNorm epsilon
 * @param ropeTheta            rotary base (ignored by GPT-2)
 * @param ropeScaling          rotary scaling, or null
 * @param tieWordEmbeddings    whether the output head reuses the input embedding
 * @param attentionBias        q/k/v projections carry biases (Qwen2, or {@code attention_bias})
 * @param qkNorm               per-head RMSNorm on q and k (Qwen3)
 * @param hiddenAct            activation name ({@code silu}, {@code gelu_new}, ...)
 * @param bosTokenId           BOS id or null
 * @param eosTokenIds          EOS ids (config.json's {@code eos_token_id}, scalar or list), possibly empty
 * @param torchDtype           {@code torch_dtype} as written, or null
 * @param slidingWindow        Mistral's {@code sliding_window}: a query sees only the keys fewer than this many
 *                             positions behind it; null for full causal attention
 * @param gemma                what Gemma 2 / Gemma 3 add (their per-layer windows, soft-capping, local rotary base);
 *                             null for every other architecture
 * @param partialRotaryFactor  Phi-3's {@code partial_rotary_factor}: the fraction of each head's dimensions that the
 *                             rotary embedding turns (the first {@link #rotaryDim()}); 1 for every other family
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int vocabSize,
        int maxPositions,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkNorm,
        String hiddenAct,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        String torchDtype,
        Integer slidingWindow,
        GemmaConfig gemma,
        double partialRotaryFactor) {

    /** The {@code hidden_act} values this library runs (GPT-2: {@code activation_function}). */
    public static final List<String> SUPPORTED_ACTIVATIONS = List.of(
            "silu", "swish", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu");

    /** The activation in use: {@link #hiddenAct()}, or the architecture's default when it is null. */
    public String effectiveHiddenAct() {
        return hiddenAct != null ? hiddenAct : isGpt2() ? "gelu_new" : "silu";
    }

    /** The architectures this library runs. */
    public static final List<String> SUPPORTED_ARCHITECTURES = List.of(
            "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "GPT2LMHeadModel",
            "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM");

    public ModelConfig {
        Objects.requireNonNull(architecture, "architecture");
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        if (slidingWindow != null && slidingWindow < 1) {
            throw new IllegalArgumentException("slidingWindow must be >= 1 or null, got " + slidingWindow);
        }
        if (gemma != null && gemma.slidingLayers().size() != numLayers) {
            throw new IllegalArgumentException("gemma.slidingLayers has " + gemma.slidingLayers().size()
                    + " entries for " + numLayers + " layers");
        }
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
            throw new IllegalArgumentException("partialRotaryFactor must be in (0, 1], got " + partialRotaryFactor);
        }
    }

    /**
     * A configuration of any architecture but Gemma's ({@link #gemma()} null) that rotates every dimension of a head
     * ({@code partialRotaryFactor} 1).
     */
    public ModelConfig(String architecture, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                       int intermediateSize, int vocabSize, int maxPositions, double normEps, double ropeTheta,
                       RopeScaling ropeScaling, boolean tieWordEmbeddings, boolean attentionBias, boolean qkNorm,
                       String hiddenAct, Integer bosTokenId, List<Integer> eosTokenIds, String torchDtype,
                       Integer slidingWindow) {
        this(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize,
                maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm, hiddenAct,
                bosTokenId, eosTokenIds, torchDtype, slidingWindow, null, 1.0);
    }

    /** A configuration with full causal attention (no sliding window). */
    public ModelConfig(String architecture, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                       int intermediateSize, int vocabSize, int maxPositions, double normEps, double ropeTheta,
                       RopeScaling ropeScaling, boolean tieWordEmbeddings, boolean attentionBias, boolean qkNorm,
                       String hiddenAct, Integer bosTokenId, List<Integer> eosTokenIds, String torchDtype) {
        this(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize,
                maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm, hiddenAct,
                bosTokenId, eosTokenIds, torchDtype, null);
    }

    /** This configuration with another sliding window (null: full causal attention). */
    public ModelConfig withSlidingWindow(Integer window) {
        return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                vocabSize, maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm,
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, window, gemma, partialRotaryFactor);
    }

    /** This configuration with other Gemma fields (null: none). */
    public ModelConfig withGemma(GemmaConfig g) {
        return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                vocabSize, maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm,
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, slidingWindow, g, partialRotaryFactor);
    }

    /** Whether this is Gemma 2 or Gemma 3 ({@link #gemma()} holds what they add). */
    public boolean isGemma() {
        return gemma != null;
    }

    /**
     * The sliding window of layer {@code layer}: Gemma's on its sliding layers ({@link GemmaConfig#window}),
     * {@link #slidingWindow()} on every layer of the others; null: full causal attention.
     */
    public Integer slidingWindow(int layer) {
        return gemma != null ? gemma.window(layer) : slidingWindow;
    }

    /** This configuration with another {@code partial_rotary_factor} (Phi-3 / Phi-4-mini). */
    public ModelConfig withPartialRotaryFactor(double factor) {
        return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                vocabSize, maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm,
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, slidingWindow, gemma, factor);
    }

    /** This configuration with another rotary scaling (null: none). */
    public ModelConfig withRopeScaling(RopeScaling scaling) {
        return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                vocabSize, maxPositions, normEps, ropeTheta, scaling, tieWordEmbeddings, attentionBias, qkNorm,
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, slidingWindow, gemma, partialRotaryFactor);
    }

    /**
     * The leading dimensions of each head that the rotary embedding turns, {@code int(headDim * partialRotaryFactor)}
     * as transformers computes it; the rest pass through unchanged.
     */
    public int rotaryDim() {
        return (int) (headDim * partialRotaryFactor);
    }

    /** Whether this is Phi-3 / Phi-3.5 / Phi-4-mini (fused {@code qkv_proj} and {@code gate_up_proj}). */
    public boolean isPhi3() {
        return "Phi3ForCausalLM".equals(architecture);
    }

    /** Whether this is the GPT-2 family (LayerNorm, learned positions, Conv1D layout). */
    public boolean isGpt2() {
        return "GPT2LMHeadModel".equals(architecture);
    }

    /**
     * Rotary scaling ({@code rope_scaling}). Type {@code llama3} uses factor, the two frequency factors and the
     * original length; {@code linear} uses factor; {@code longrope} (Phi-3's, also named {@code su}) uses the two
     * factor lists, the original length and the attention factor ({@link LongRope}).
     *
     * @param type                          {@code llama3}, {@code linear}, {@code longrope}, ...
     * @param factor                        scaling factor (longrope: max_position_embeddings / original length)
     * @param lowFreqFactor                 llama3 low_freq_factor
     * @param highFreqFactor                llama3 high_freq_factor
     * @param originalMaxPositionEmbeddings llama3 / longrope original_max_position_embeddings
     * @param shortFactor                   longrope short_factor (one per rotary frequency), else empty
     * @param longFactor                    longrope long_factor (one per rotary frequency), else empty
     * @param attentionFactor               longrope attention_factor as configured; null: derived from factor
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings, List<Double> shortFactor, List<Double> longFactor,
                              Double attentionFactor) {

        public RopeScaling {
            shortFactor = shortFactor == null ? List.of() : List.copyOf(shortFactor);
            longFactor = longFactor == null ? List.of() : List.copyOf(longFactor);
        }

        /** A scaling without longrope's factor lists. */
        public RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                           int originalMaxPositionEmbeddings) {
            this(type, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings, List.of(), List.of(), null);
        }

        /** Whether this is longrope (type {@code longrope} or its older name {@code su}). */
        public boolean isLongRope() {
            return "longrope".equals(type) || "su".equals(type);
        }
    }
}
