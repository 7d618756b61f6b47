package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.github.amulet4j.djl.weights.WeightMatrix;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear layer's weight {@code [out, in]} and its bias (engine array or null), held in exactly one of two places:
 * on the engine ({@link #weight()}, with {@link #blocks()}: contiguous row blocks, views sharing its memory,
 * that {@link RowSplitPool} multiply concurrently), or for the Java kernels ({@link #matrix()}, in its
 * {@link io.github.amulet4j.djl.weights.WeightFormat}, on the Java heap); the other is null.
 */
record LinearWeight(NDArray weight, NDArray bias, NDArray[] blocks, WeightMatrix matrix, int rows, int in) {

    /** Rows per block are rounded to a multiple of this (keeps blocks aligned to cache lines). */
    static final int ROW_ALIGN = 16;

    /** An engine weight cut into at most {@code parts} row blocks of nearly equal size (one block: the weight). */
    static LinearWeight onEngine(NDArray weight, NDArray bias, int parts) {
        long rows = weight.getShape().get(0);
        int in = Math.toIntExact(weight.getShape().get(1));
        int n = (int) Math.max(1, Math.min(parts, rows / ROW_ALIGN));
        if (n == 1) {
            return new LinearWeight(weight, bias, new NDArray[] {weight}, null, Math.toIntExact(rows), in);
        }
        List<NDArray> blocks = new ArrayList<>(n);
        long start = 0;
        for (int i = 0; i < n; i++) {
            long end = i == n - 1 ? rows : Math.min(rows, (rows * (i + 1) / n + ROW_ALIGN / 2) / ROW_ALIGN * ROW_ALIGN);
            if (end > start) {
                blocks.add(weight.get(new NDIndex(start + ":" + end)));
                start = end;
            }
        }
        return new LinearWeight(weight, bias, blocks.toArray(new NDArray[0]), null, Math.toIntExact(rows), in);
    }

    /** A weight held for the Java kernels. */
    static LinearWeight forJava(WeightMatrix matrix, NDArray bias) {
        return new LinearWeight(null, bias, null, matrix, matrix.rows(), matrix.cols());
    }

    /** Whether the weight is held for the Java kernels ({@link WeightMatrix#multiply}), not on the engine. */
    boolean onHeap() {
        return matrix != null;
    }

    /** Output features. */
    long outFeatures() {
        return rows;
    }
}
