package io.github.amulet4j.formats.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The key-value metadata of a GGUF file, in file order, with typed getters whose errors name the file and the
 * key. Scalars are held as {@code Integer} (UINT8, INT8, UINT16, INT16, INT32), {@code Long} (UINT32, INT64,
 * UINT64, the last as its two's-complement bits), {@code Float}, {@code Double}, {@code Boolean}, {@code String}
 * or {@link GgufArray}.
 */
public final class GgufMetadata {

    private final String source;
    private final Map<String, Object> values;
    private final Map<String, GgufValueType> types;

    GgufMetadata(String source, Map<String, Object> values, Map<String, GgufValueType> types) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
    }

    /** The keys, in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    /** Whether the key is present. */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The stored type of a key, or null when absent. */
    public GgufValueType type(String key) {
        return types.get(key);
    }

    /** The value of a key as held (see the class comment), or null when absent. */
    public Object value(String key) {
        return values.get(key);
    }

    /** A string value. @throws GgufFormatException naming the key when absent or not a string */
    public String string(String key) {
        Object v = require(key, "a string");
        if (v instanceof String s) {
            return s;
        }
        throw wrong(key, "a string");
    }

    /** A string value, or {@code dflt} when absent. @throws GgufFormatException when present and not a string */
    public String optString(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    /** An integer value of any integer type. @throws GgufFormatException naming the key when absent or not an integer */
    public long integer(String key) {
        Object v = require(key, "an integer");
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l) {
            if (types.get(key) == GgufValueType.UINT64 && l < 0) {
                throw new GgufFormatException(source + ": metadata '" + key + "' is " + Long.toUnsignedString(l)
                        + ", too large");
            }
            return l;
        }
        throw wrong(key, "an integer");
    }

    /** A positive int value. @throws GgufFormatException naming the key when absent, not an integer or not in 1..2^31-1 */
    public int positiveInt(String key) {
        long v = integer(key);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new GgufFormatException(source + ": metadata '" + key + "' must be a positive int, found " + v);
        }
        return (int) v;
    }

    /** A positive int value, or {@code dflt} when absent. */
    public int optPositiveInt(String key, int dflt) {
        return has(key) ? positiveInt(key) : dflt;
    }

    /** An int value in 0..2^31-1, or null when absent. */
    public Integer optNonNegativeInt(String key) {
        if (!has(key)) {
            return null;
        }
        long v = integer(key);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new GgufFormatException(source + ": metadata '" + key + "' must be an int >= 0, found " + v);
        }
        return (int) v;
    }

    /** A number (float, double or integer), or {@code dflt} when absent. @throws GgufFormatException when not finite */
    public double optNumber(String key, double dflt) {
        if (!has(key)) {
            return dflt;
        }
        Object v = values.get(key);
        double d;
        if (v instanceof Float f) {
            d = f;
        } else if (v instanceof Double x) {
            d = x;
        } else if (v instanceof Integer || v instanceof Long) {
            d = integer(key);
        } else {
            throw wrong(key, "a number");
        }
        if (!Double.isFinite(d)) {
            throw new GgufFormatException(source + ": metadata '" + key + "' must be a finite number, found " + d);
        }
        return d;
    }

    /** A boolean, or {@code dflt} when absent. @throws GgufFormatException when present and not a boolean */
    public Boolean optBool(String key, Boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        if (values.get(key) instanceof Boolean b) {
            return b;
        }
        throw wrong(key, "a boolean");
    }

    /** An array. @throws GgufFormatException naming the key when absent or not an array */
    public GgufArray array(String key) {
        Object v = require(key, "an array");
        if (v instanceof GgufArray a) {
            return a;
        }
        throw wrong(key, "an array");
    }

    /** The strings of a STRING array. @throws GgufFormatException naming the key otherwise */
    public String[] strings(String key) {
        return stringArray(key).strings();
    }

    /**
     * A STRING array whose elements are decoded when read ({@link GgufArray#string(int)}).
     *
     * @throws GgufFormatException naming the key when absent or not an array of strings
     */
    public GgufArray stringArray(String key) {
        GgufArray a = array(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw wrong(key, "an array of strings");
        }
        return a;
    }

    /** The values of a FLOAT32/FLOAT64 array. @throws GgufFormatException naming the key otherwise */
    public float[] floats(String key) {
        try {
            return array(key).floats();
        } catch (IllegalStateException e) {
            throw wrong(key, "an array of floats");
        }
    }

    /** The values of an integer array. @throws GgufFormatException naming the key otherwise */
    public int[] ints(String key) {
        try {
            return array(key).ints();
        } catch (IllegalStateException e) {
            throw new GgufFormatException(source + ": metadata '" + key + "' must be an array of ints ("
                    + e.getMessage() + ")");
        }
    }

    private Object require(String key, String expected) {
        Object v = values.get(key);
        if (v == null) {
            throw new GgufFormatException(source + ": missing metadata '" + key + "' (" + expected + ")");
        }
        return v;
    }

    private GgufFormatException wrong(String key, String expected) {
        Object v = values.get(key);
        String found = v instanceof String s ? "the string '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'"
                : types.get(key) + " " + v;
        return new GgufFormatException(source + ": metadata '" + key + "' must be " + expected + ", found " + found);
    }

    @Override
    public String toString() {
        return "GgufMetadata[" + source + ", " + values.size() + " keys]";
    }
}
