package io.github.amulet4j.formats.gguf;

import java.nio.charset.StandardCharsets;

/**
 * A STRING array of GGUF metadata kept as the file's UTF-8 bytes until it is read ({@link GgufArray#strings()},
 * {@link GgufArray#string(int)}): a vocabulary's 151,665 tokens and 151,387 merges took most of a cold JVM's
 * header read (about 0.3 s) as 300,000 strings made one by one, on the thread that goes on to load the weights, where
 * the tokenizer (on a thread of its own) needs the tokens and, with its JSON cached, not the merges at all.
 * Decoded at most once (thread-safe); malformed UTF-8 becomes U+FFFD, as the eager read did.
 */
final class GgufStrings {

    private final byte[] bytes;
    /** Element {@code i} is {@code bytes[offsets[i], offsets[i + 1])}. */
    private final int[] offsets;
    private volatile String[] decoded;

    GgufStrings(byte[] bytes, int[] offsets) {
        this.bytes = bytes;
        this.offsets = offsets;
    }

    int size() {
        return offsets.length - 1;
    }

    /** Element {@code i}, decoded alone unless the whole array already is. */
    String get(int i) {
        String[] d = decoded;
        if (d != null) {
            return d[i];
        }
        if (i < 0 || i >= size()) {
            throw new ArrayIndexOutOfBoundsException("element " + i + " of " + size());
        }
        return new String(bytes, offsets[i], offsets[i + 1] - offsets[i], StandardCharsets.UTF_8);
    }

    /** Every element (the same array on every call). */
    String[] all() {
        String[] d = decoded;
        if (d == null) {
            synchronized (this) {
                d = decoded;
                if (d == null) {
                    d = new String[size()];
                    for (int i = 0; i < d.length; i++) {
                        d[i] = new String(bytes, offsets[i], offsets[i + 1] - offsets[i], StandardCharsets.UTF_8);
                    }
                    decoded = d;
                }
            }
        }
        return d;
    }
}
