package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * A linear layer's weight {@code [out, in]}, its bias (or null) and the weight cut into contiguous row
 * blocks (views sharing its memory) that {@link ProductWorkers} multiply concurrently.
 */
record LinearWeight(NDArray weight, NDArray bias, NDArray[] blocks) {

    /** Rows per block are rounded to a multiple of this (keeps blocks aligned to cache lines). */
    private static final long ROW_ALIGN = 16;

    /** The weight cut into at most {@code parts} row blocks of nearly equal size (one block: the weight itself). */
    static LinearWeight of(NDArray weight, NDArray bias, int parts) {
        long rows = weight.getShape().get(0);
        int n = (int) Math.max(1, Math.min(parts, rows / ROW_ALIGN));
        if (n == 1) {
            return new LinearWeight(weight, bias, new NDArray[] {weight});
        }
        java.util.List<NDArray> blocks = new java.util.ArrayList<>(n);
        long start = 0;
        for (int i = 0; i < n; i++) {
            long end = i == n - 1 ? rows : Math.min(rows, (rows * (i + 1) / n + ROW_ALIGN / 2) / ROW_ALIGN * ROW_ALIGN);
            if (end > start) {
                blocks.add(weight.get(new NDIndex(start + ":" + end)));
                start = end;
            }
        }
        return new LinearWeight(weight, bias, blocks.toArray(new NDArray[0]));
    }

    /** Output features. */
    long outFeatures() {
        return weight.getShape().get(0);
    }
}
