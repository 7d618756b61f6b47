package io.github.amulet4j.djl.checkpoint;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor to write: its name, shape and a source of its values that is asked for consecutive chunks, so
 * that a multi-gigabyte random checkpoint can be written without holding any tensor in memory.
 *
 * @param name   tensor name
 * @param shape  dimensions (non-negative)
 * @param values fills chunks of the row-major values
 */
public record TensorEntry(String name, long[] shape, ValueSource values) {

    /** Produces the values of one tensor, chunk by chunk, in increasing order of element index. */
    @FunctionalInterface
    public interface ValueSource {
        /** Writes elements {@code first .. first+count-1} into {@code buffer[0..count-1]}. */
        void fill(long first, float[] buffer, int count);
    }

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(values, "values");
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(shape));
            }
        }
    }

    /** A tensor whose values are held in an array (length must match the shape). */
    public static TensorEntry of(String name, long[] shape, float[] data) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                    + " needs " + n + " values, got " + data.length);
        }
        return new TensorEntry(name, shape, (first, buf, count) -> System.arraycopy(data, (int) first, buf, 0, count));
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
