package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The blocked many-column float32 kernel (prefill): the activations are packed once per product into panels of
 * {@value #VECTORS} vectors of columns ({@code [in][2L]}, columns zero-padded), then every tile of {@value #ROWS}
 * weight rows (widened to float32 and laid out by {@link #layOut}) is multiplied with every panel by a register tile
 * of {@value #ROWS} rows by {@code 2L} columns: per input index two vector loads of the panel, one broadcast weight per
 * row and 24 multiply-adds into 24 accumulators, with no horizontal sum (each accumulator lane is one column).
 *
 * <p>Each column's sum is taken in the order of the one- and two-column kernels (a decode step's): the inputs of a
 * weight panel in {@code L} classes ({@code i mod L}, the lanes of a vector over the inputs), each summed in input
 * order, the classes then added in lane order, the tail's products one by one, the weight panels' sums in panel
 * order. So a column's result has the same bits whatever the number of columns and whichever columns are beside it:
 * a prompt's logits do not depend on its chunks nor on how much of it a prompt cache held. The classes cost one pass
 * of the panel each over a twelfth of the weights and a fold of 24 vectors per class.
 */
final class PanelKernel {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    /** Vectors of columns in a panel. */
    static final int VECTORS = 2;
    /** Columns in a panel. */
    static final int WIDTH = VECTORS * L;
    /** Weight rows in a register tile. */
    static final int ROWS = 12;
    /** Floats of a chunk of a widened tile: {@code L} inputs of each of its rows. */
    static final int CHUNK = ROWS * L;

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[0]);
    /** Where {@link #layOut} puts the {@code L} inputs of a vector, relative to the first. */
    private static final ThreadLocal<int[]> PLACES = ThreadLocal.withInitial(() -> new int[L]);
    /** A tile's sums over the classes of inputs done so far, {@code [ROWS][WIDTH]}. */
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[ROWS * WIDTH]);

    private PanelKernel() {
    }

    /** Panels needed for {@code n} columns. */
    static int panels(int n) {
        return (n + WIDTH - 1) / WIDTH;
    }

    /**
     * {@code x} ({@code [n, in]}) packed into {@link #panels} panels of {@code [in][WIDTH]} in a per-thread array
     * (columns past {@code n} are zero), input {@code order[q]} at place {@code q} ({@link #order}).
     */
    static float[] pack(float[] x, int n, int in, int[] order) {
        int np = panels(n);
        int size = np * in * WIDTH;
        float[] p = PANELS.get();
        if (p.length < size) {
            p = new float[size];
            PANELS.set(p);
        }
        for (int panel = 0; panel < np; panel++) {
            int base = panel * in * WIDTH;
            int c0 = panel * WIDTH;
            int cols = Math.min(WIDTH, n - c0);
            for (int c = 0; c < cols; c++) {
                int xo = (c0 + c) * in;
                for (int q = 0; q < in; q++) {
                    p[base + q * WIDTH + c] = x[xo + order[q]];
                }
            }
            if (cols < WIDTH) {
                for (int q = 0; q < in; q++) {
                    Arrays.fill(p, base + q * WIDTH + cols, base + (q + 1) * WIDTH, 0f);
                }
            }
        }
        return p;
    }

    /**
     * The order in which {@link #multiply} reads the inputs: per weight panel {@code j} (inputs
     * {@code [first[j], first[j] + len[j])}, vector part {@code bound[j]}), input {@code first[j] + m * L + k} at place
     * {@code first[j] + k * bound[j] / L + m} (the inputs of one class {@code k} one after the other), the tail's in
     * place: {@code order[q]} is the input at place {@code q}.
     */
    static int[] order(int in, int[] first, int[] len, int[] bound) {
        int[] order = new int[in];
        for (int q = 0; q < in; q++) {
            order[q] = q;
        }
        for (int j = 0; j < first.length; j++) {
            int steps = bound[j] / L;
            for (int k = 0; k < L; k++) {
                for (int m = 0; m < steps; m++) {
                    order[first[j] + k * steps + m] = first[j] + m * L + k;
                }
            }
        }
        return order;
    }

    /** Floats of a widened tile of {@link #ROWS} rows of {@code in} weights. */
    static int tileSize(int in) {
        return in * ROWS;
    }

    /**
     * Lays out {@link #ROWS} rows of widened weights ({@code rows[r * in + i]}, row-major) for {@link #multiply}: the
     * weight of row {@code r} at place {@code q} of {@link #order} at {@code w[q * ROWS + r]} (the twelve rows of an
     * input side by side, the inputs of a class one after the other). A vector of {@code L} inputs of a row goes to
     * its {@code L} places at once (a scatter: one place per class); the tail's weights one by one.
     */
    static void layOut(float[] rows, int in, int[] first, int[] len, int[] bound, float[] w) {
        int[] places = PLACES.get();
        for (int j = 0; j < first.length; j++) {
            int c0 = first[j];
            int steps = bound[j] / L;
            for (int k = 0; k < L; k++) {
                places[k] = k * steps * ROWS;
            }
            for (int r = 0; r < ROWS; r++) {
                int src = r * in + c0;
                int dst = c0 * ROWS + r;
                for (int m = 0; m < steps; m++) {
                    FloatVector.fromArray(FS, rows, src + m * L).intoArray(w, dst + m * ROWS, places, 0);
                }
                for (int i = bound[j]; i < len[j]; i++) {
                    w[(c0 + i) * ROWS + r] = rows[src + i];
                }
            }
        }
    }

    /**
     * The {@link #ROWS} rows of the tile {@code w} (from {@link #layOut}) times every column of {@code packed} (from
     * {@link #pack}, {@code panels} panels) into {@code out}: row {@code r}, column {@code c} at
     * {@code out[o + r * stride + c]} ({@code stride >= panels * WIDTH}; columns past {@code n} are zero). Each weight
     * panel's sum is the one-column kernels' (lanes of {@code L} inputs, then the lanes in order, then the tail), the
     * panels' sums added in order: a column's result does not depend on the other columns.
     */
    static void multiply(float[] w, int in, int[] first, int[] len, int[] bound, float[] packed, int panels,
                         float[] out, int o, int stride) {
        float[] t = SUMS.get();
        for (int panel = 0; panel < panels; panel++) {
            for (int j = 0; j < first.length; j++) {
                tile(w, first[j] * ROWS, bound[j], len[j], packed, panel * in * WIDTH + first[j] * WIDTH, t, out,
                        o + panel * WIDTH, stride, j > 0);
            }
        }
    }

    /**
     * The register tile over one weight panel's inputs {@code [c0, c0 + len)} (vector part {@code [c0, c0 + bound)}):
     * for each class {@code k} of inputs ({@code i - c0 = m * L + k}) its products summed in order of {@code m} into
     * 24 accumulators, the classes summed in order of {@code k} into {@code t} (a per-thread {@code [ROWS][WIDTH]}),
     * then the tail's products added one input at a time; the sums stored ({@code add} false) or added into
     * {@code out[o + r * s + c]}. The order of every sum is the one-column kernels' per column.
     */
    private static void tile(float[] w, int wb, int bound, int len, float[] p, int p0, float[] t, float[] out,
                             int o, int s, boolean add) {
        int steps = bound / L;
        for (int k = 0; k < L; k++) {
            FloatVector a00 = FloatVector.zero(FS);
            FloatVector a01 = a00;
            FloatVector a10 = FloatVector.zero(FS);
            FloatVector a11 = a10;
            FloatVector a20 = FloatVector.zero(FS);
            FloatVector a21 = a20;
            FloatVector a30 = FloatVector.zero(FS);
            FloatVector a31 = a30;
            FloatVector a40 = FloatVector.zero(FS);
            FloatVector a41 = a40;
            FloatVector a50 = FloatVector.zero(FS);
            FloatVector a51 = a50;
            FloatVector a60 = FloatVector.zero(FS);
            FloatVector a61 = a60;
            FloatVector a70 = FloatVector.zero(FS);
            FloatVector a71 = a70;
            FloatVector a80 = FloatVector.zero(FS);
            FloatVector a81 = a80;
            FloatVector a90 = FloatVector.zero(FS);
            FloatVector a91 = a90;
            FloatVector aa0 = FloatVector.zero(FS);
            FloatVector aa1 = aa0;
            FloatVector ab0 = FloatVector.zero(FS);
            FloatVector ab1 = ab0;
            int wk = wb + k * steps * ROWS;
            int xk = p0 + k * steps * WIDTH;
            for (int m = 0; m < steps; m++) {
                int xi = xk + m * WIDTH;
                int c = wk + m * ROWS;
                FloatVector x0 = FloatVector.fromArray(FS, p, xi);
                FloatVector x1 = FloatVector.fromArray(FS, p, xi + L);
                FloatVector b0 = FloatVector.broadcast(FS, w[c + 0]);
                a00 = b0.fma(x0, a00);
                a01 = b0.fma(x1, a01);
                FloatVector b1 = FloatVector.broadcast(FS, w[c + 1]);
                a10 = b1.fma(x0, a10);
                a11 = b1.fma(x1, a11);
                FloatVector b2 = FloatVector.broadcast(FS, w[c + 2]);
                a20 = b2.fma(x0, a20);
                a21 = b2.fma(x1, a21);
                FloatVector b3 = FloatVector.broadcast(FS, w[c + 3]);
                a30 = b3.fma(x0, a30);
                a31 = b3.fma(x1, a31);
                FloatVector b4 = FloatVector.broadcast(FS, w[c + 4]);
                a40 = b4.fma(x0, a40);
                a41 = b4.fma(x1, a41);
                FloatVector b5 = FloatVector.broadcast(FS, w[c + 5]);
                a50 = b5.fma(x0, a50);
                a51 = b5.fma(x1, a51);
                FloatVector b6 = FloatVector.broadcast(FS, w[c + 6]);
                a60 = b6.fma(x0, a60);
                a61 = b6.fma(x1, a61);
                FloatVector b7 = FloatVector.broadcast(FS, w[c + 7]);
                a70 = b7.fma(x0, a70);
                a71 = b7.fma(x1, a71);
                FloatVector b8 = FloatVector.broadcast(FS, w[c + 8]);
                a80 = b8.fma(x0, a80);
                a81 = b8.fma(x1, a81);
                FloatVector b9 = FloatVector.broadcast(FS, w[c + 9]);
                a90 = b9.fma(x0, a90);
                a91 = b9.fma(x1, a91);
                FloatVector ba = FloatVector.broadcast(FS, w[c + 10]);
                aa0 = ba.fma(x0, aa0);
                aa1 = ba.fma(x1, aa1);
                FloatVector bb = FloatVector.broadcast(FS, w[c + 11]);
                ab0 = bb.fma(x0, ab0);
                ab1 = bb.fma(x1, ab1);
            }
            if (k == 0) {
                a00.add(0f).intoArray(t, 0 * L);
                a01.add(0f).intoArray(t, 1 * L);
                a10.add(0f).intoArray(t, 2 * L);
                a11.add(0f).intoArray(t, 3 * L);
                a20.add(0f).intoArray(t, 4 * L);
                a21.add(0f).intoArray(t, 5 * L);
                a30.add(0f).intoArray(t, 6 * L);
                a31.add(0f).intoArray(t, 7 * L);
                a40.add(0f).intoArray(t, 8 * L);
                a41.add(0f).intoArray(t, 9 * L);
                a50.add(0f).intoArray(t, 10 * L);
                a51.add(0f).intoArray(t, 11 * L);
                a60.add(0f).intoArray(t, 12 * L);
                a61.add(0f).intoArray(t, 13 * L);
                a70.add(0f).intoArray(t, 14 * L);
                a71.add(0f).intoArray(t, 15 * L);
                a80.add(0f).intoArray(t, 16 * L);
                a81.add(0f).intoArray(t, 17 * L);
                a90.add(0f).intoArray(t, 18 * L);
                a91.add(0f).intoArray(t, 19 * L);
                aa0.add(0f).intoArray(t, 20 * L);
                aa1.add(0f).intoArray(t, 21 * L);
                ab0.add(0f).intoArray(t, 22 * L);
                ab1.add(0f).intoArray(t, 23 * L);
            } else {
                a00.add(FloatVector.fromArray(FS, t, 0 * L)).intoArray(t, 0 * L);
                a01.add(FloatVector.fromArray(FS, t, 1 * L)).intoArray(t, 1 * L);
                a10.add(FloatVector.fromArray(FS, t, 2 * L)).intoArray(t, 2 * L);
                a11.add(FloatVector.fromArray(FS, t, 3 * L)).intoArray(t, 3 * L);
                a20.add(FloatVector.fromArray(FS, t, 4 * L)).intoArray(t, 4 * L);
                a21.add(FloatVector.fromArray(FS, t, 5 * L)).intoArray(t, 5 * L);
                a30.add(FloatVector.fromArray(FS, t, 6 * L)).intoArray(t, 6 * L);
                a31.add(FloatVector.fromArray(FS, t, 7 * L)).intoArray(t, 7 * L);
                a40.add(FloatVector.fromArray(FS, t, 8 * L)).intoArray(t, 8 * L);
                a41.add(FloatVector.fromArray(FS, t, 9 * L)).intoArray(t, 9 * L);
                a50.add(FloatVector.fromArray(FS, t, 10 * L)).intoArray(t, 10 * L);
                a51.add(FloatVector.fromArray(FS, t, 11 * L)).intoArray(t, 11 * L);
                a60.add(FloatVector.fromArray(FS, t, 12 * L)).intoArray(t, 12 * L);
                a61.add(FloatVector.fromArray(FS, t, 13 * L)).intoArray(t, 13 * L);
                a70.add(FloatVector.fromArray(FS, t, 14 * L)).intoArray(t, 14 * L);
                a71.add(FloatVector.fromArray(FS, t, 15 * L)).intoArray(t, 15 * L);
                a80.add(FloatVector.fromArray(FS, t, 16 * L)).intoArray(t, 16 * L);
                a81.add(FloatVector.fromArray(FS, t, 17 * L)).intoArray(t, 17 * L);
                a90.add(FloatVector.fromArray(FS, t, 18 * L)).intoArray(t, 18 * L);
                a91.add(FloatVector.fromArray(FS, t, 19 * L)).intoArray(t, 19 * L);
                aa0.add(FloatVector.fromArray(FS, t, 20 * L)).intoArray(t, 20 * L);
                aa1.add(FloatVector.fromArray(FS, t, 21 * L)).intoArray(t, 21 * L);
                ab0.add(FloatVector.fromArray(FS, t, 22 * L)).intoArray(t, 22 * L);
                ab1.add(FloatVector.fromArray(FS, t, 23 * L)).intoArray(t, 23 * L);
            }
        }
        FloatVector a00 = FloatVector.fromArray(FS, t, 0 * L);
        FloatVector a01 = FloatVector.fromArray(FS, t, 1 * L);
        FloatVector a10 = FloatVector.fromArray(FS, t, 2 * L);
        FloatVector a11 = FloatVector.fromArray(FS, t, 3 * L);
        FloatVector a20 = FloatVector.fromArray(FS, t, 4 * L);
        FloatVector a21 = FloatVector.fromArray(FS, t, 5 * L);
        FloatVector a30 = FloatVector.fromArray(FS, t, 6 * L);
        FloatVector a31 = FloatVector.fromArray(FS, t, 7 * L);
        FloatVector a40 = FloatVector.fromArray(FS, t, 8 * L);
        FloatVector a41 = FloatVector.fromArray(FS, t, 9 * L);
        FloatVector a50 = FloatVector.fromArray(FS, t, 10 * L);
        FloatVector a51 = FloatVector.fromArray(FS, t, 11 * L);
        FloatVector a60 = FloatVector.fromArray(FS, t, 12 * L);
        FloatVector a61 = FloatVector.fromArray(FS, t, 13 * L);
        FloatVector a70 = FloatVector.fromArray(FS, t, 14 * L);
        FloatVector a71 = FloatVector.fromArray(FS, t, 15 * L);
        FloatVector a80 = FloatVector.fromArray(FS, t, 16 * L);
        FloatVector a81 = FloatVector.fromArray(FS, t, 17 * L);
        FloatVector a90 = FloatVector.fromArray(FS, t, 18 * L);
        FloatVector a91 = FloatVector.fromArray(FS, t, 19 * L);
        FloatVector aa0 = FloatVector.fromArray(FS, t, 20 * L);
        FloatVector aa1 = FloatVector.fromArray(FS, t, 21 * L);
        FloatVector ab0 = FloatVector.fromArray(FS, t, 22 * L);
        FloatVector ab1 = FloatVector.fromArray(FS, t, 23 * L);
        for (int i = bound; i < len; i++) {
            int xi = p0 + i * WIDTH;
            int c = wb + i * ROWS;
            FloatVector x0 = FloatVector.fromArray(FS, p, xi);
            FloatVector x1 = FloatVector.fromArray(FS, p, xi + L);
            FloatVector b0 = FloatVector.broadcast(FS, w[c + 0]);
            a00 = a00.add(b0.mul(x0));
            a01 = a01.add(b0.mul(x1));
            FloatVector b1 = FloatVector.broadcast(FS, w[c + 1]);
            a10 = a10.add(b1.mul(x0));
            a11 = a11.add(b1.mul(x1));
            FloatVector b2 = FloatVector.broadcast(FS, w[c + 2]);
            a20 = a20.add(b2.mul(x0));
            a21 = a21.add(b2.mul(x1));
            FloatVector b3 = FloatVector.broadcast(FS, w[c + 3]);
            a30 = a30.add(b3.mul(x0));
            a31 = a31.add(b3.mul(x1));
            FloatVector b4 = FloatVector.broadcast(FS, w[c + 4]);
            a40 = a40.add(b4.mul(x0));
            a41 = a41.add(b4.mul(x1));
            FloatVector b5 = FloatVector.broadcast(FS, w[c + 5]);
            a50 = a50.add(b5.mul(x0));
            a51 = a51.add(b5.mul(x1));
            FloatVector b6 = FloatVector.broadcast(FS, w[c + 6]);
            a60 = a60.add(b6.mul(x0));
            a61 = a61.add(b6.mul(x1));
            FloatVector b7 = FloatVector.broadcast(FS, w[c + 7]);
            a70 = a70.add(b7.mul(x0));
            a71 = a71.add(b7.mul(x1));
            FloatVector b8 = FloatVector.broadcast(FS, w[c + 8]);
            a80 = a80.add(b8.mul(x0));
            a81 = a81.add(b8.mul(x1));
            FloatVector b9 = FloatVector.broadcast(FS, w[c + 9]);
            a90 = a90.add(b9.mul(x0));
            a91 = a91.add(b9.mul(x1));
            FloatVector ba = FloatVector.broadcast(FS, w[c + 10]);
            aa0 = aa0.add(ba.mul(x0));
            aa1 = aa1.add(ba.mul(x1));
            FloatVector bb = FloatVector.broadcast(FS, w[c + 11]);
            ab0 = ab0.add(bb.mul(x0));
            ab1 = ab1.add(bb.mul(x1));
        }
        if (add) {
            FloatVector.fromArray(FS, out, o).add(a00).intoArray(out, o);
            FloatVector.fromArray(FS, out, o + L).add(a01).intoArray(out, o + L);
            FloatVector.fromArray(FS, out, o + s).add(a10).intoArray(out, o + s);
            FloatVector.fromArray(FS, out, o + s + L).add(a11).intoArray(out, o + s + L);
            FloatVector.fromArray(FS, out, o + 2 * s).add(a20).intoArray(out, o + 2 * s);
            FloatVector.fromArray(FS, out, o + 2 * s + L).add(a21).intoArray(out, o + 2 * s + L);
            FloatVector.fromArray(FS, out, o + 3 * s).add(a30).intoArray(out, o + 3 * s);
            FloatVector.fromArray(FS, out, o + 3 * s + L).add(a31).intoArray(out, o + 3 * s + L);
            FloatVector.fromArray(FS, out, o + 4 * s).add(a40).intoArray(out, o + 4 * s);
            FloatVector.fromArray(FS, out, o + 4 * s + L).add(a41).intoArray(out, o + 4 * s + L);
            FloatVector.fromArray(FS, out, o + 5 * s).add(a50).intoArray(out, o + 5 * s);
            FloatVector.fromArray(FS, out, o + 5 * s + L).add(a51).intoArray(out, o + 5 * s + L);
            FloatVector.fromArray(FS, out, o + 6 * s).add(a60).intoArray(out, o + 6 * s);
            FloatVector.fromArray(FS, out, o + 6 * s + L).add(a61).intoArray(out, o + 6 * s + L);
            FloatVector.fromArray(FS, out, o + 7 * s).add(a70).intoArray(out, o + 7 * s);
            FloatVector.fromArray(FS, out, o + 7 * s + L).add(a71).intoArray(out, o + 7 * s + L);
            FloatVector.fromArray(FS, out, o + 8 * s).add(a80).intoArray(out, o + 8 * s);
            FloatVector.fromArray(FS, out, o + 8 * s + L).add(a81).intoArray(out, o + 8 * s + L);
            FloatVector.fromArray(FS, out, o + 9 * s).add(a90).intoArray(out, o + 9 * s);
            FloatVector.fromArray(FS, out, o + 9 * s + L).add(a91).intoArray(out, o + 9 * s + L);
            FloatVector.fromArray(FS, out, o + 10 * s).add(aa0).intoArray(out, o + 10 * s);
            FloatVector.fromArray(FS, out, o + 10 * s + L).add(aa1).intoArray(out, o + 10 * s + L);
            FloatVector.fromArray(FS, out, o + 11 * s).add(ab0).intoArray(out, o + 11 * s);
            FloatVector.fromArray(FS, out, o + 11 * s + L).add(ab1).intoArray(out, o + 11 * s + L);
        } else {
            a00.intoArray(out, o);
            a01.intoArray(out, o + L);
            a10.intoArray(out, o + s);
            a11.intoArray(out, o + s + L);
            a20.intoArray(out, o + 2 * s);
            a21.intoArray(out, o + 2 * s + L);
            a30.intoArray(out, o + 3 * s);
            a31.intoArray(out, o + 3 * s + L);
            a40.intoArray(out, o + 4 * s);
            a41.intoArray(out, o + 4 * s + L);
            a50.intoArray(out, o + 5 * s);
            a51.intoArray(out, o + 5 * s + L);
            a60.intoArray(out, o + 6 * s);
            a61.intoArray(out, o + 6 * s + L);
            a70.intoArray(out, o + 7 * s);
            a71.intoArray(out, o + 7 * s + L);
            a80.intoArray(out, o + 8 * s);
            a81.intoArray(out, o + 8 * s + L);
            a90.intoArray(out, o + 9 * s);
            a91.intoArray(out, o + 9 * s + L);
            aa0.intoArray(out, o + 10 * s);
            aa1.intoArray(out, o + 10 * s + L);
            ab0.intoArray(out, o + 11 * s);
            ab1.intoArray(out, o + 11 * s + L);
        }
    }

}
