package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The few-column float32 kernel (three to {@value WeightKernels#PANEL_COLUMNS} minus one columns; more go to
 * {@link PanelKernel}): a tile of rows, already widened to float32 and small enough to stay
 * in cache, multiplied with every column by register tiles of four rows by three columns (twelve accumulators;
 * each step loads seven vectors for twelve multiply-adds).
 */
final class FloatTile {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();

    private FloatTile() {
    }

    /**
     * {@code y[c * rows + r] = sum_i w[(r - first) * in + i] * x[c * in + i]} for rows {@code [first, end)} and
     * columns {@code c < n}, each weight panel {@code j} (inputs {@code [c0[j], c0[j] + len[j])}, vector part
     * {@code bound[j]}) summed as the one-column kernels sum it (lanes over the inputs, the lanes in order, then the
     * tail one by one) and the panels' sums added in order: a column's result does not depend on the others.
     */
    static void multiply(float[] w, int first, int end, int in, float[] x, int n, float[] y, int rows, int[] c0,
                         int[] len, int[] bound) {
        for (int j = 0; j < c0.length; j++) {
            boolean add = j > 0;
            int c = 0;
            for (; c + 3 <= n; c += 3) {
                int r = first;
                for (; r + 4 <= end; r += 4) {
                    fourByThree(w, (r - first) * in + c0[j], in, x, c * in + c0[j], y, c * rows + r, rows, len[j],
                            bound[j], add);
                }
                for (; r < end; r++) {
                    for (int k = 0; k < 3; k++) {
                        put(y, (c + k) * rows + r, dot(w, (r - first) * in + c0[j], x, (c + k) * in + c0[j], len[j],
                                bound[j]), add);
                    }
                }
            }
            for (; c < n; c++) {
                for (int r = first; r < end; r++) {
                    put(y, c * rows + r, dot(w, (r - first) * in + c0[j], x, c * in + c0[j], len[j], bound[j]), add);
                }
            }
        }
    }

    private static void put(float[] y, int at, float s, boolean add) {
        y[at] = add ? y[at] + s : s;
    }

    private static void fourByThree(float[] w, int w0, int in, float[] x, int x0, float[] y, int y0, int rows, int len,
                                    int bound, boolean add) {
        FloatVector a00 = FloatVector.zero(FS);
        FloatVector a01 = FloatVector.zero(FS);
        FloatVector a02 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS);
        FloatVector a11 = FloatVector.zero(FS);
        FloatVector a12 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS);
        FloatVector a21 = FloatVector.zero(FS);
        FloatVector a22 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS);
        FloatVector a31 = FloatVector.zero(FS);
        FloatVector a32 = FloatVector.zero(FS);
        int w1 = w0 + in;
        int w2 = w1 + in;
        int w3 = w2 + in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v0 = FloatVector.fromArray(FS, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(FS, x, x1 + i);
            FloatVector v2 = FloatVector.fromArray(FS, x, x2 + i);
            FloatVector u = FloatVector.fromArray(FS, w, w0 + i);
            a00 = u.fma(v0, a00);
            a01 = u.fma(v1, a01);
            a02 = u.fma(v2, a02);
            u = FloatVector.fromArray(FS, w, w1 + i);
            a10 = u.fma(v0, a10);
            a11 = u.fma(v1, a11);
            a12 = u.fma(v2, a12);
            u = FloatVector.fromArray(FS, w, w2 + i);
            a20 = u.fma(v0, a20);
            a21 = u.fma(v1, a21);
            a22 = u.fma(v2, a22);
            u = FloatVector.fromArray(FS, w, w3 + i);
            a30 = u.fma(v0, a30);
            a31 = u.fma(v1, a31);
            a32 = u.fma(v2, a32);
        }
        float[] s = {
            a00.reduceLanes(VectorOperators.ADD), a01.reduceLanes(VectorOperators.ADD), a02.reduceLanes(VectorOperators.ADD),
            a10.reduceLanes(VectorOperators.ADD), a11.reduceLanes(VectorOperators.ADD), a12.reduceLanes(VectorOperators.ADD),
            a20.reduceLanes(VectorOperators.ADD), a21.reduceLanes(VectorOperators.ADD), a22.reduceLanes(VectorOperators.ADD),
            a30.reduceLanes(VectorOperators.ADD), a31.reduceLanes(VectorOperators.ADD), a32.reduceLanes(VectorOperators.ADD)};
        for (; i < len; i++) {
            for (int rr = 0; rr < 4; rr++) {
                float wv = w[w0 + rr * in + i];
                for (int cc = 0; cc < 3; cc++) {
                    s[rr * 3 + cc] += wv * x[x0 + cc * in + i];
                }
            }
        }
        for (int rr = 0; rr < 4; rr++) {
            for (int cc = 0; cc < 3; cc++) {
                put(y, y0 + cc * rows + rr, s[rr * 3 + cc], add);
            }
        }
    }

    /** {@code len} products from {@code w[wOff]} and {@code x[xOff]}: lanes up to {@code bound}, then one by one. */
    static float dot(float[] w, int wOff, float[] x, int xOff, int len, int bound) {
        FloatVector a = FloatVector.zero(FS);
        int i = 0;
        for (; i < bound; i += L) {
            a = FloatVector.fromArray(FS, w, wOff + i).fma(FloatVector.fromArray(FS, x, xOff + i), a);
        }
        float s = a.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            s += w[wOff + i] * x[xOff + i];
        }
        return s;
    }
}
