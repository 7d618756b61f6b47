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

    /** Whether this list is {@code 0, 1, ..., n - 1} (a stream selection that keeps every stream in place). */
    boolean isIdentity(int n) {
        if (size() != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (get(i) != i) {
                return false;
            }
        }
        return true;
    }
}
