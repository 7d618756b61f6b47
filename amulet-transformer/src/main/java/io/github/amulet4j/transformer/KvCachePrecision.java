package io.github.amulet4j.transformer;

import java.util.Locale;

/**
 * The precision of the keys and values a {@link JavaForward} KV cache holds: {@link #F32} (float32, the default) or
 * {@link #F16} (IEEE binary16, as llama.cpp's default cache: half the bytes, so a decode step's attention, which is
 * bound by the bytes it reads, costs about half). Each key and value is rounded once to the nearest half when it is
 * written (a relative error of at most 2^-11, values beyond 65504 become infinite); the attention widens them exactly
 * and computes in float32 as over a float32 cache. F16 applies where the native attention runs (the library loaded,
 * head sizes of whole 8-float vectors, no attention-logit soft-capping); elsewhere the cache stays float32 and one
 * log line says why.
 */
public enum KvCachePrecision {
    /** float32 keys and values: 4 bytes each. */
    F32(Float.BYTES),
    /** IEEE binary16 keys and values: 2 bytes each. */
    F16(2);

    private final int bytes;

    KvCachePrecision(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes one key or value element takes. */
    public int bytesPerElement() {
        return bytes;
    }

    /**
     * {@code f32} or {@code f16}, in any case.
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static KvCachePrecision parse(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        for (KvCachePrecision p : values()) {
            if (p.name().equals(n)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown KV cache precision '" + name + "'; valid: f32, f16");
    }
}
