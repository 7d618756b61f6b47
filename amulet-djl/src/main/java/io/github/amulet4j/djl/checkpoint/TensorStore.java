package io.github.amulet4j.djl.checkpoint;

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

    @Override
    void close();
}
