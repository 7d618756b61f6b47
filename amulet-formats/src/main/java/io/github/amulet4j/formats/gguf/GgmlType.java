package io.github.amulet4j.formats.gguf;

/**
 * The tensor element types of ggml that a GGUF file may hold, with their ids, block sizes (elements per
 * block) and block byte sizes, as llama.cpp's {@code ggml.h} and {@code ggml-common.h} define them. Every type
 * listed can be opened (its size is known); {@link #decodable()} says whether {@link GgmlBlocks} turns it into
 * float32.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true);

    private final int id;
    private final int blockSize;
    private final int blockBytes;
    private final boolean decodable;

    GgmlType(int id, int blockSize, int blockBytes, boolean decodable) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.decodable = decodable;
    }

    /** The id written in the file. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether this library converts the type to float32. */
    public boolean decodable() {
        return decodable;
    }

    /** Whether the type is quantized in blocks (not a plain float or integer type). */
    public boolean quantized() {
        return blockSize > 1;
    }

    /** Bytes of {@code elements} values (a multiple of the block size). */
    public long byteSize(long elements) {
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The type of an id, or null when this library does not know it. */
    public static GgmlType fromId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
