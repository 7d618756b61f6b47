package io.github.amulet4j.formats.checkpoint;

import java.util.List;
import java.util.Objects;

/**
 * What Gemma 2 and Gemma 3 add to a Llama-style decoder, as {@link ModelConfig#gemma()} holds it (null for every
 * other architecture). The rest of a Gemma model is fixed by the architecture: embeddings scaled by
 * {@code sqrt(hidden_size)} ({@link #embeddingScale}), RMSNorms of the form {@code x * (1 + w)}, four norms a layer
 * (input, post-attention, pre-feedforward, post-feedforward) and a GeGLU MLP.
 *
 * @param queryPreAttnScalar    {@code query_pre_attn_scalar}: attention scores are scaled by its {@code -1/2} power
 * @param attnLogitSoftcapping  {@code attn_logit_softcapping} c: scores become {@code c * tanh(s / c)}; null: none
 * @param finalLogitSoftcapping {@code final_logit_softcapping}, the same on the output logits; null: none
 * @param slidingWindow         {@code sliding_window} of the sliding layers (a query sees the keys fewer than this many
 *                              positions behind it); null: every layer attends to all its past
 * @param slidingLayers         per layer, whether it is a sliding-window layer ({@code layer_types}, or Gemma 2's
 *                              alternation from layer 0, or Gemma 3's {@code sliding_window_pattern})
 * @param localRopeTheta        Gemma 3's {@code rope_local_base_freq}: the rotary base of the sliding layers, with no
 *                              scaling; null (Gemma 2): every layer uses the config's {@code rope_theta} and scaling
 */
public record GemmaConfig(double queryPreAttnScalar, Double attnLogitSoftcapping, Double finalLogitSoftcapping,
                          Integer slidingWindow, List<Boolean> slidingLayers, Double localRopeTheta) {

    /** Layer types as transformers writes them in {@code layer_types}. */
    public static final String SLIDING = "sliding_attention";
    /** The other layer type of {@code layer_types}. */
    public static final String FULL = "full_attention";

    public GemmaConfig {
        slidingLayers = List.copyOf(Objects.requireNonNull(slidingLayers, "slidingLayers"));
        if (!(queryPreAttnScalar > 0)) {
            throw new IllegalArgumentException("queryPreAttnScalar must be > 0, got " + queryPreAttnScalar);
        }
        positiveOrNull("attnLogitSoftcapping", attnLogitSoftcapping);
        positiveOrNull("finalLogitSoftcapping", finalLogitSoftcapping);
        positiveOrNull("localRopeTheta", localRopeTheta);
        if (slidingWindow != null && slidingWindow < 1) {
            throw new IllegalArgumentException("slidingWindow must be >= 1 or null, got " + slidingWindow);
        }
    }

    private static void positiveOrNull(String field, Double v) {
        if (v != null && !(v > 0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(field + " must be a positive number or null, got " + v);
        }
    }

    /**
     * The sliding layers of a model whose config gives no {@code layer_types}: layer {@code i} slides unless
     * {@code (i + 1)} is a multiple of {@code pattern} (Gemma 2: pattern 2, layer 0 sliding, layer 1 global; Gemma 3:
     * pattern 6, five sliding layers to one global).
     */
    public static List<Boolean> pattern(int layers, int pattern) {
        if (pattern < 1) {
            throw new IllegalArgumentException("sliding_window_pattern must be >= 1, got " + pattern);
        }
        Boolean[] out = new Boolean[layers];
        for (int i = 0; i < layers; i++) {
            out[i] = (i + 1) % pattern != 0;
        }
        return List.of(out);
    }

    /** Whether layer {@code layer} is a sliding-window layer. */
    public boolean sliding(int layer) {
        return slidingLayers.get(layer);
    }

    /** The window of layer {@code layer}: {@link #slidingWindow} on a sliding layer, null (no window) otherwise. */
    public Integer window(int layer) {
        return sliding(layer) ? slidingWindow : null;
    }

    /** Whether layer {@code layer} takes its rotary frequencies from {@link #localRopeTheta} (Gemma 3's local layers). */
    public boolean localRope(int layer) {
        return localRopeTheta != null && sliding(layer);
    }

    /** This configuration as {@code layer_types} writes it. */
    public List<String> layerTypes() {
        return slidingLayers.stream().map(s -> s ? SLIDING : FULL).toList();
    }

    /**
     * The factor the embedding rows are multiplied by: {@code sqrt(hidden)} rounded to the model's dtype as
     * transformers does ({@code torch.tensor(hidden ** 0.5, dtype=...)}): to bfloat16 or float16 when
     * {@code torchDtype} ({@code torch_dtype} of config.json) says so, float32 otherwise, as llama.cpp computes it for
     * a GGUF file (33.94 becomes 34.0 in bfloat16 for Gemma 3 1B's 1,152).
     */
    public static float embeddingScale(int hidden, String torchDtype) {
        float s = (float) Math.sqrt(hidden);
        if (torchDtype == null) {
            return s;
        }
        return switch (torchDtype.toLowerCase(java.util.Locale.ROOT)) {
            case "bfloat16" -> SafetensorsDtype.bf16ToFloat(SafetensorsDtype.floatToBf16(s));
            case "float16" -> SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf(s));
            default -> s;
        };
    }
}
