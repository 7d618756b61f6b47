package io.github.amulet4j.djl.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Linear-layer products in Java with the Vector API ({@code jdk.incubator.vector}): {@code y = x @ W^T} for a
 * weight {@code W[rows, in]} and activations {@code x[n, in]}, both row-major {@code float[]}.
 *
 * <p>Why: PyTorch's CPU kernels read the weights of a two-column product (both Amulet streams) at about 11 GB/s
 * on the benchmark machine, against 15-19 GB/s for this kernel, which reads each weight row once for both
 * columns (issue 5). With more columns, rows are processed in tiles small enough to stay in the core's cache
 * while every pair of columns passes over them, so a prefill also reads the weights from memory once.
 *
 * <p>Only load this class after {@link VectorSupport#available()} said yes: it links against an incubator module
 * that the JVM has only when started with {@code --add-modules jdk.incubator.vector}.
 */
final class VectorMatmul {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows per tile: 16 rows of 4,864 floats are 311 KB, within a 512 KB L2. */
    private static final int TILE_ROWS = 16;

    private VectorMatmul() {
    }

    /**
     * Computes rows {@code [from, to)} of {@code y[c * rows + r] = sum_i w[r * in + i] * x[c * in + i]} for every
     * column {@code c < n}: {@code y} is {@code [n, rows]} row-major, the layout of a linear layer's output.
     */
    static void multiply(float[] w, int rows, int in, float[] x, int n, float[] y, int from, int to) {
        if (n <= 2) {
            // decode steps: memory-bound, four rows per pass so that each activation load serves four rows
            rows(w, rows, in, x, 0, n, y, from, to);
            return;
        }
        // many columns (prefill, batches): compute-bound; pairs of columns over two rows keep four accumulators
        // (measured 1.25-1.4x faster here than eight), the tile staying in cache while every pair passes over it
        for (int tile = from; tile < to; tile += TILE_ROWS) {
            int end = Math.min(to, tile + TILE_ROWS);
            int c = 0;
            for (; c + 2 <= n; c += 2) {
                int r = tile;
                for (; r + 2 <= end; r += 2) {
                    twoRowsTwoColumns(w, rows, in, x, c, y, r);
                }
                if (r < end) {
                    y[c * rows + r] = dot(w, r * in, x, c * in, in);
                    y[(c + 1) * rows + r] = dot(w, r * in, x, (c + 1) * in, in);
                }
            }
            if (c < n) {
                rows(w, rows, in, x, c, 1, y, tile, end);
            }
        }
    }

    /** Rows {@code [from, to)} of {@code g} (1 or 2) columns from {@code c}: four rows per pass, then row by row. */
    private static void rows(float[] w, int rows, int in, float[] x, int c, int g, float[] y, int from, int to) {
        int r = from;
        // four rows per pass: four independent multiply-add chains per column, each activation load serves four rows
        for (; r + 4 <= to; r += 4) {
            if (g == 2) {
                fourRowsTwoColumns(w, rows, in, x, c, y, r);
            } else {
                fourRowsOneColumn(w, rows, in, x, c, y, r);
            }
        }
        for (; r < to; r++) {
            for (int k = 0; k < g; k++) {
                y[(c + k) * rows + r] = dot(w, r * in, x, (c + k) * in, in);
            }
        }
    }

    private static void fourRowsOneColumn(float[] w, int rows, int in, float[] x, int c, float[] y, int r) {
        int w0 = r * in;
        int x0 = c * in;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int len = S.length();
        int bound = S.loopBound(in);
        int i = 0;
        for (; i < bound; i += len) {
            FloatVector v = FloatVector.fromArray(S, x, x0 + i);
            a0 = FloatVector.fromArray(S, w, w0 + i).fma(v, a0);
            a1 = FloatVector.fromArray(S, w, w0 + in + i).fma(v, a1);
            a2 = FloatVector.fromArray(S, w, w0 + 2 * in + i).fma(v, a2);
            a3 = FloatVector.fromArray(S, w, w0 + 3 * in + i).fma(v, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            float v = x[x0 + i];
            s0 += w[w0 + i] * v;
            s1 += w[w0 + in + i] * v;
            s2 += w[w0 + 2 * in + i] * v;
            s3 += w[w0 + 3 * in + i] * v;
        }
        int base = c * rows + r;
        y[base] = s0;
        y[base + 1] = s1;
        y[base + 2] = s2;
        y[base + 3] = s3;
    }

    private static void fourRowsTwoColumns(float[] w, int rows, int in, float[] x, int c, float[] y, int r) {
        int w0 = r * in;
        int x0 = c * in;
        int x1 = x0 + in;
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        int len = S.length();
        int bound = S.loopBound(in);
        int i = 0;
        for (; i < bound; i += len) {
            FloatVector v0 = FloatVector.fromArray(S, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(S, x, x1 + i);
            FloatVector u = FloatVector.fromArray(S, w, w0 + i);
            a00 = u.fma(v0, a00);
            a01 = u.fma(v1, a01);
            u = FloatVector.fromArray(S, w, w0 + in + i);
            a10 = u.fma(v0, a10);
            a11 = u.fma(v1, a11);
            u = FloatVector.fromArray(S, w, w0 + 2 * in + i);
            a20 = u.fma(v0, a20);
            a21 = u.fma(v1, a21);
            u = FloatVector.fromArray(S, w, w0 + 3 * in + i);
            a30 = u.fma(v0, a30);
            a31 = u.fma(v1, a31);
        }
        float[] s = {a00.reduceLanes(VectorOperators.ADD), a10.reduceLanes(VectorOperators.ADD),
            a20.reduceLanes(VectorOperators.ADD), a30.reduceLanes(VectorOperators.ADD),
            a01.reduceLanes(VectorOperators.ADD), a11.reduceLanes(VectorOperators.ADD),
            a21.reduceLanes(VectorOperators.ADD), a31.reduceLanes(VectorOperators.ADD)};
        for (; i < in; i++) {
            for (int k = 0; k < 4; k++) {
                float wv = w[w0 + k * in + i];
                s[k] += wv * x[x0 + i];
                s[4 + k] += wv * x[x1 + i];
            }
        }
        for (int k = 0; k < 4; k++) {
            y[c * rows + r + k] = s[k];
            y[(c + 1) * rows + r + k] = s[4 + k];
        }
    }

    private static void twoRowsTwoColumns(float[] w, int rows, int in, float[] x, int c, float[] y, int r) {
        int w0 = r * in;
        int w1 = w0 + in;
        int x0 = c * in;
        int x1 = x0 + in;
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        int len = S.length();
        int bound = S.loopBound(in);
        int i = 0;
        for (; i < bound; i += len) {
            FloatVector u0 = FloatVector.fromArray(S, w, w0 + i);
            FloatVector u1 = FloatVector.fromArray(S, w, w1 + i);
            FloatVector v0 = FloatVector.fromArray(S, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(S, x, x1 + i);
            a00 = u0.fma(v0, a00);
            a01 = u0.fma(v1, a01);
            a10 = u1.fma(v0, a10);
            a11 = u1.fma(v1, a11);
        }
        float s00 = a00.reduceLanes(VectorOperators.ADD);
        float s01 = a01.reduceLanes(VectorOperators.ADD);
        float s10 = a10.reduceLanes(VectorOperators.ADD);
        float s11 = a11.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            s00 += w[w0 + i] * x[x0 + i];
            s01 += w[w0 + i] * x[x1 + i];
            s10 += w[w1 + i] * x[x0 + i];
            s11 += w[w1 + i] * x[x1 + i];
        }
        y[c * rows + r] = s00;
        y[c * rows + r + 1] = s10;
        y[(c + 1) * rows + r] = s01;
        y[(c + 1) * rows + r + 1] = s11;
    }

    private static float dot(float[] w, int wOff, float[] x, int xOff, int in) {
        FloatVector a = FloatVector.zero(S);
        int len = S.length();
        int bound = S.loopBound(in);
        int i = 0;
        for (; i < bound; i += len) {
            a = FloatVector.fromArray(S, w, wOff + i).fma(FloatVector.fromArray(S, x, xOff + i), a);
        }
        float s = a.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            s += w[wOff + i] * x[xOff + i];
        }
        return s;
    }
}
