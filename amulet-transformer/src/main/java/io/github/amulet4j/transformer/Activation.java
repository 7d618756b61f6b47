package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.ModelConfig;

/** The MLP's activation, read from {@code hidden_act} (GPT-2: {@code gelu_new} when absent, else {@code silu}). */
public enum Activation {
    SILU, GELU_TANH, GELU_ERF, RELU;

    /** The activation of {@code c}; throws for an unsupported {@code hidden_act}. */
    public static Activation of(ModelConfig c) {
        String act = c.hiddenAct() == null ? (c.isGpt2() ? "gelu_new" : "silu") : c.hiddenAct();
        return switch (act) {
            case "silu", "swish" -> SILU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "gelu" -> GELU_ERF;
            case "relu" -> RELU;
            default -> throw new IllegalArgumentException("unsupported hidden_act '" + act + "' for "
                    + c.architecture() + "; supported: silu, gelu_new, gelu_pytorch_tanh, gelu, relu");
        };
    }
}
