package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.github.amulet4j.transformer.LinearWeight;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear layer's weight {@code [out, in]} on the engine and its bias (or null), with {@link #blocks()}: contiguous
 * row blocks, views sharing its memory, that the product threads multiply concurrently.
 */
record EngineLinear(NDArray weight, NDArray bias, NDArray[] blocks, int rows, int in) {

    /** A weight cut into at most {@code parts} row blocks of nearly equal size (one block: the weight). */
    static EngineLinear of(NDArray weight, NDArray bias, int parts) {
        long rows = weight.getShape().get(0);
        int in = Math.toIntExact(weight.getShape().get(1));
        int align = LinearWeight.ROW_ALIGN;
        int n = (int) Math.max(1, Math.min(parts, rows / align));
        if (n == 1) {
            return new EngineLinear(weight, bias, new NDArray[] {weight}, Math.toIntExact(rows), in);
        }
        List<NDArray> blocks = new ArrayList<>(n);
        long start = 0;
        for (int i = 0; i < n; i++) {
            long end = i == n - 1 ? rows : Math.min(rows, (rows * (i + 1) / n + align / 2) / align * align);
            if (end > start) {
                blocks.add(weight.get(new NDIndex(start + ":" + end)));
                start = end;
            }
        }
        return new EngineLinear(weight, bias, blocks.toArray(new NDArray[0]), Math.toIntExact(rows), in);
    }

    /** Output features. */
    long outFeatures() {
        return rows;
    }
}
