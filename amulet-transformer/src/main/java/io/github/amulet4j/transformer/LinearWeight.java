package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.weights.WeightMatrix;

/**
 * A linear layer's weight {@code [out, in]} held for the Java kernels, in its
 * {@link io.github.amulet4j.transformer.weights.WeightFormat}, and its bias (null where the layer has none).
 */
public record LinearWeight(WeightMatrix matrix, float[] bias) {

    /** Rows of a product's pieces (and of an engine's row blocks) are rounded to a multiple of this (cache lines). */
    public static final int ROW_ALIGN = 16;

    /** Output features. */
    public int rows() {
        return matrix.rows();
    }

    /** Input features. */
    public int in() {
        return matrix.cols();
    }
}
