package io.github.amulet4j.formats.gguf;

/** The value types of GGUF metadata, with the ids the format gives them. */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    /** A u64 byte length and UTF-8 bytes. */
    STRING(8, 8),
    /** A u32 element type, a u64 count and the elements. */
    ARRAY(9, 12),
    UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The id written in the file. */
    public int id() {
        return id;
    }

    /** The fewest bytes one value of this type takes in a file (its size for fixed-size types). */
    int minBytes() {
        return minBytes;
    }

    /** The type of an id, or null when the format has none. */
    public static GgufValueType fromId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
