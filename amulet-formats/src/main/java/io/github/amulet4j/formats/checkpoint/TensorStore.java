package io.github.amulet4j.formats.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Named weight tensors of a checkpoint (one safetensors file, a sharded set, or an in-memory map in
 * tests). Values come out as float32 whatever the stored dtype (F32, F16, BF16): BF16 is widened in
 * Java, because DJL's PyTorch JNI aborts the JVM on BFLOAT16.
 */
public interface TensorStore extends AutoCloseable {

    /** Names of all tensors. */
    Set<String> names();

    /** Whether a tensor of that name exists. */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /** Shape of a tensor. @throws IllegalArgumentException naming the tensor and the file if absent */
    long[] shape(String name);

    /** Stored dtype name as safetensors spells it ({@code F32}, {@code F16}, {@code BF16}). */
    String dtype(String name);

    /** Values of a tensor as float32, row-major. @throws IllegalArgumentException naming the tensor and the file if absent */
    float[] readFloat32(String name);

    /**
     * Rows {@code [firstRow, firstRow + rowCount)} of a tensor as float32 into {@code dst} from {@code dstOffset}, a
     * row being everything after the first dimension (a vector's rows are single values). Loading reads large
     * matrices this way, a few MiB at a time, so that no float32 copy of a whole tensor is ever held. This default
     * reads the whole tensor; stores that can read a part override it.
     *
     * @throws IllegalArgumentException naming the tensor when it is absent or the rows are outside it
     */
    default void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        long[] shape = shape(name);
        long rowLength = TensorStores.rowLength(name, shape, firstRow, rowCount);
        float[] all = readFloat32(name);
        System.arraycopy(all, Math.toIntExact(firstRow * rowLength), dst, dstOffset,
                Math.toIntExact(rowCount * rowLength));
    }

    /**
     * Whether {@link #readRawRows} serves tensor {@code name}: a matrix whose rows can be read in the bytes of its
     * {@link #dtype}, in the order {@link #readRows} gives them (a GGUF store un-permutes Llama's q/k rows as it reads
     * them). This default: never.
     */
    default boolean hasRawRows(String name) {
        return false;
    }

    /**
     * Rows {@code [firstRow, firstRow + rowCount)} of a matrix as the bytes they are stored in (its {@link #dtype}:
     * little-endian {@code F32}, {@code F16}, {@code BF16}, or GGUF's blocks such as {@code Q8_0} or {@code Q4_K}),
     * in the order {@link #readRows} gives them, put into {@code dst} from its position, which ends after them: loading copies them where the stored format is the one kept, instead of decoding
     * them to float32 and encoding them again.
     *
     * @throws UnsupportedOperationException where {@link #hasRawRows} is false
     * @throws IllegalArgumentException      naming the tensor when the rows are outside it or {@code dst} is too small
     */
    default void readRawRows(String name, long firstRow, int rowCount, ByteBuffer dst) {
        throw new UnsupportedOperationException(this + " does not read the stored bytes of '" + name + "'");
    }

    /**
     * The files the tensors are read from (a cache of weights converted from them is keyed by these files' identity);
     * empty for a store that has none (tensors in memory), whose weights are never cached. This default: none.
     */
    default List<Path> files() {
        return List.of();
    }

    @Override
    void close();
}
