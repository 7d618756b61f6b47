package io.github.amulet4j.formats.checkpoint;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A {@link TensorStore} over float32 arrays held in memory: random checkpoints, tests, conversions. */
public final class InMemoryTensorStore implements TensorStore {

    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();

    /** Adds (or replaces) a tensor; returns this store for chaining. */
    public InMemoryTensorStore put(String name, long[] shape, float[] data) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                    + " needs " + n + " values, got " + data.length);
        }
        shapes.put(name, shape.clone());
        values.put(name, data);
        return this;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(shapes.keySet());
    }

    @Override
    public long[] shape(String name) {
        return require(shapes.get(name), name).clone();
    }

    @Override
    public String dtype(String name) {
        require(shapes.get(name), name);
        return "F32";
    }

    @Override
    public float[] readFloat32(String name) {
        return require(values.get(name), name);
    }

    @Override
    public void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        long rowLength = TensorStores.rowLength(name, shape(name), firstRow, rowCount);
        System.arraycopy(readFloat32(name), Math.toIntExact(firstRow * rowLength), dst, dstOffset,
                Math.toIntExact(rowCount * rowLength));
    }

    private static <T> T require(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in the in-memory store");
        }
        return value;
    }

    @Override
    public void close() {
        // nothing native to release
    }
}
