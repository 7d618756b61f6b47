package io.github.amulet4j.formats.gguf;

import java.util.Arrays;

/**
 * One tensor of a GGUF file as its header describes it.
 *
 * @param name     the tensor name ({@code blk.0.attn_q.weight})
 * @param type     the element type
 * @param ne       the dimensions in ggml order: {@code ne[0]} is the innermost (contiguous) one
 * @param offset   the absolute byte offset of the data in the file
 * @param byteSize the bytes of the data
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset, long byteSize) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** The shape in row-major (PyTorch) order: {@code ne} reversed. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }

    /** Number of elements. */
    public long elements() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    /** Rows of the row-major matrix view: all dimensions but {@code ne[0]}. */
    public long rows() {
        return elements() / ne[0];
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape());
    }
}
