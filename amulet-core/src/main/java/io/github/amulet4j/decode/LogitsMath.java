package io.github.amulet4j.decode;

/** Small numerical helpers over rows of float logits. */
public final class LogitsMath {

    private LogitsMath() {
    }

    /** Index of the largest value (the lowest index on ties); -1 if every value is {@code -inf} or NaN. */
    public static int argmax(float[] a, int off, int n) {
        int best = -1;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = a[off + i];
            if (v > bestV) {
                bestV = v;
                best = i;
            }
        }
        return best;
    }

    /** Largest value of the row. */
    public static float max(float[] a, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, a[off + i]);
        }
        return m;
    }

    /** {@code log(sum(exp(row)))}, max-subtracted; {@code -inf} for an all-masked row. */
    public static double logSumExp(float[] a, int off, int n) {
        float m = max(a, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return Double.NEGATIVE_INFINITY;
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            float v = a[off + i];
            if (v != Float.NEGATIVE_INFINITY) {
                s += Math.exp(v - m);
            }
        }
        return m + Math.log(s);
    }

    /**
     * Indices of the non-masked values of the row, sorted by value descending and
     * index ascending on ties.
     */
    static int[] sortedDescending(float[] a, int off, int n) {
        long[] keys = new long[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            float v = a[off + i];
            if (v != Float.NEGATIVE_INFINITY) {
                int bits = Float.floatToIntBits(v);
                int sortable = bits ^ ((bits >> 31) & 0x7fffffff); // signed order == float order
                keys[m++] = ((long) ~sortable << 32) | i;           // ~ reverses the order
            }
        }
        java.util.Arrays.sort(keys, 0, m);
        int[] idx = new int[m];
        for (int i = 0; i < m; i++) {
            idx[i] = (int) keys[i];
        }
        return idx;
    }
}
