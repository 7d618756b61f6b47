package io.github.amulet4j.generate;

import java.util.Arrays;

/** A growable list of ints (package-private). */
final class IntList {
    private int[] a = new int[16];
    private int n;

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
        }
        a[n++] = v;
    }

    int size() {
        return n;
    }

    int get(int i) {
        return a[i];
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }

    /** Drops the values from index {@code size} on. */
    void truncate(int size) {
        n = Math.min(n, size);
    }

    void clear() {
        n = 0;
    }
}
