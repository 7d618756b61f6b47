package io.github.amulet4j.formats.checkpoint;

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

    /**
     * A tensor of pseudo-random values, uniform in {@code [-scale, scale)}, that depend only on {@code seed} and
     * the element index (not on how the writer chunks them): for random checkpoints of any size.
     */
    public static TensorEntry random(String name, long[] shape, long seed, float scale) {
        return new TensorEntry(name, shape, (first, buf, count) -> {
            for (int i = 0; i < count; i++) {
                buf[i] = randomValue(seed, first + i, scale);
            }
        });
    }

    /** The value {@link #random} gives element {@code index}. */
    public static float randomValue(long seed, long index, float scale) {
        long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        double u = (z >>> 11) * 0x1.0p-53; // [0, 1)
        return (float) ((2 * u - 1) * scale);
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
