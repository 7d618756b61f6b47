package io.github.amulet4j.formats.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * An array value of GGUF metadata, held as one primitive Java array: {@code int[]} for UINT8, INT8, UINT16,
 * INT16 and INT32, {@code long[]} for UINT32, INT64 and UINT64, {@code float[]} for FLOAT32, {@code double[]} for
 * FLOAT64, {@code boolean[]} for BOOL, {@code String[]} for STRING and {@code GgufArray[]} for nested arrays. A
 * STRING array read from a file keeps the file's bytes until its strings are asked for ({@link #values()},
 * {@link #strings()}, {@link #string(int)}).
 *
 * @param elementType the element type
 * @param values      the primitive array
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(values, "values");
    }

    /** The primitive array (a STRING array read from a file: its strings, decoded on the first call). */
    @Override
    public Object values() {
        return values instanceof GgufStrings s ? s.all() : values;
    }

    /** Number of elements. */
    public int size() {
        return values instanceof GgufStrings s ? s.size() : java.lang.reflect.Array.getLength(values);
    }

    /** The strings of a STRING array. @throws IllegalStateException for another element type */
    public String[] strings() {
        if (values instanceof GgufStrings s) {
            return s.all();
        }
        if (values instanceof String[] s) {
            return s;
        }
        throw new IllegalStateException("an array of " + elementType + ", not of STRING");
    }

    /**
     * Element {@code i} of a STRING array (without decoding the others).
     *
     * @throws IllegalStateException for another element type
     * @throws ArrayIndexOutOfBoundsException outside the array
     */
    public String string(int i) {
        if (values instanceof GgufStrings s) {
            return s.get(i);
        }
        return strings()[i];
    }

    /** The values of a FLOAT32 or FLOAT64 array as floats. @throws IllegalStateException for another type */
    public float[] floats() {
        if (values instanceof float[] f) {
            return f;
        }
        if (values instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        throw new IllegalStateException("an array of " + elementType + ", not of floats");
    }

    /**
     * The values of an integer array as ints.
     *
     * @throws IllegalStateException for a non-integer type or a value outside the int range
     */
    public int[] ints() {
        if (values instanceof int[] i) {
            return i;
        }
        if (values instanceof long[] l) {
            int[] out = new int[l.length];
            for (int i = 0; i < l.length; i++) {
                if (l[i] < Integer.MIN_VALUE || l[i] > Integer.MAX_VALUE) {
                    throw new IllegalStateException("element " + i + " (" + l[i] + ") is outside the int range");
                }
                out[i] = (int) l[i];
            }
            return out;
        }
        throw new IllegalStateException("an array of " + elementType + ", not of integers");
    }

    @Override
    public String toString() {
        int n = size();
        return elementType + "[" + n + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType
                && Arrays.deepEquals(new Object[] {values()}, new Object[] {a.values()});
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(new Object[] {elementType, values()});
    }
}
