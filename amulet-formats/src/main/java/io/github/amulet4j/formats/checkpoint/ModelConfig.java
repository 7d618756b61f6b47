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
        GemmaConfig gemma) {

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
            "Gemma2ForCausalLM", "Gemma3ForCausalLM");

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
    }

    /** A configuration of any architecture but Gemma's ({@link #gemma()} null). */
    public ModelConfig(String architecture, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                       int intermediateSize, int vocabSize, int maxPositions, double normEps, double ropeTheta,
                       RopeScaling ropeScaling, boolean tieWordEmbeddings, boolean attentionBias, boolean qkNorm,
                       String hiddenAct, Integer bosTokenId, List<Integer> eosTokenIds, String torchDtype,
                       Integer slidingWindow) {
        this(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize,
                maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm, hiddenAct,
                bosTokenId, eosTokenIds, torchDtype, slidingWindow, null);
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
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, window, gemma);
    }

    /** This configuration with other Gemma fields (null: none). */
    public ModelConfig withGemma(GemmaConfig g) {
        return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                vocabSize, maxPositions, normEps, ropeTheta, ropeScaling, tieWordEmbeddings, attentionBias, qkNorm,
                hiddenAct, bosTokenId, eosTokenIds, torchDtype, slidingWindow, g);
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

    /** Whether this is the GPT-2 family (LayerNorm, learned positions, Conv1D layout). */
    public boolean isGpt2() {
        return "GPT2LMHeadModel".equals(architecture);
    }

    /**
     * Rotary scaling ({@code rope_scaling}). Type {@code llama3} uses all fields; {@code linear} uses factor.
     *
     * @param type                          {@code llama3}, {@code linear}, ...
     * @param factor                        scaling factor
     * @param lowFreqFactor                 llama3 low_freq_factor
     * @param highFreqFactor                llama3 high_freq_factor
     * @param originalMaxPositionEmbeddings llama3 original_max_position_embeddings
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {
    }
}
