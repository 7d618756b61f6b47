package io.github.amulet4j.formats.checkpoint;

import java.util.Arrays;

/** Checks shared by the {@link TensorStore} implementations. */
public final class TensorStores {

    private TensorStores() {
    }

    /**
     * Values per row of a tensor of {@code shape} (1 for a vector or scalar), after checking that rows
     * {@code [firstRow, firstRow + rowCount)} lie inside it.
     *
     * @throws IllegalArgumentException naming the tensor, its shape and the rows asked for
     */
    public static long rowLength(String name, long[] shape, long firstRow, int rowCount) {
        long rows = shape.length == 0 ? 1 : shape[0];
        if (firstRow < 0 || rowCount < 0 || firstRow > rows - rowCount) {
            throw new IllegalArgumentException("rows " + firstRow + ".." + (firstRow + rowCount) + " are outside tensor '"
                    + name + "' of shape " + Arrays.toString(shape));
        }
        long length = 1;
        for (int i = 1; i < shape.length; i++) {
            length = Math.multiplyExact(length, shape[i]);
        }
        return length;
    }
}
