package io.github.amulet4j.djl.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The blocked many-column float32 kernel (prefill): the activations are packed once per product into panels of
 * {@value #VECTORS} vectors of columns ({@code [in][2L]}, columns zero-padded), then every tile of {@value #ROWS}
 * weight rows (widened to float32) is multiplied with every panel by a register tile of {@value #ROWS} rows by
 * {@code 2L} columns: per input index two vector loads of the panel, one broadcast weight per row and 24
 * multiply-adds into 24 accumulators, with no horizontal sum (each accumulator lane is one column).
 *
 * <p>The packed panels are read once per tile of rows (streamed; two loads for 24 multiply-adds need little
 * bandwidth) and the tile's rows once per panel (in L2 up to {@code in} = 20,000).
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

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[ROWS * WIDTH]);

    private PanelKernel() {
    }

    /** Panels needed for {@code n} columns. */
    static int panels(int n) {
        return (n + WIDTH - 1) / WIDTH;
    }

    /**
     * {@code x} ({@code [n, in]}) packed into {@link #panels} panels of {@code [in][WIDTH]} in a per-thread array
     * (columns past {@code n} are zero).
     */
    static float[] pack(float[] x, int n, int in) {
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
                for (int i = 0; i < in; i++) {
                    p[base + i * WIDTH + c] = x[xo + i];
                }
            }
            if (cols < WIDTH) {
                for (int i = 0; i < in; i++) {
                    Arrays.fill(p, base + i * WIDTH + cols, base + (i + 1) * WIDTH, 0f);
                }
            }
        }
        return p;
    }

    /**
     * {@code y[c * rows + r] = sum_i w[(r - first) * in + i] * x[c * in + i]} for rows {@code [first, end)}
     * ({@code end - first <= ROWS}; {@code w} holds {@link #ROWS} rows, those past {@code end - first} zero) and
     * columns {@code c < n}, with {@code packed} from {@link #pack}.
     */
    static void multiply(float[] w, int first, int end, int in, float[] packed, int n, float[] y, int rows) {
        float[] acc = ACC.get();
        int count = end - first;
        for (int panel = 0; panel * WIDTH < n; panel++) {
            tile(w, in, packed, panel * in * WIDTH, acc);
            int c0 = panel * WIDTH;
            int cols = Math.min(WIDTH, n - c0);
            for (int c = 0; c < cols; c++) {
                int yo = (c0 + c) * rows + first;
                for (int r = 0; r < count; r++) {
                    y[yo + r] = acc[r * WIDTH + c];
                }
            }
        }
    }

    /** The register tile: {@code acc[r * WIDTH + c]} = row {@code r} of {@code w} times panel column {@code c}. */
    private static void tile(float[] w, int in, float[] p, int p0, float[] acc) {
        FloatVector a00 = FloatVector.zero(FS);
        FloatVector a01 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS);
        FloatVector a11 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS);
        FloatVector a21 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS);
        FloatVector a31 = FloatVector.zero(FS);
        FloatVector a40 = FloatVector.zero(FS);
        FloatVector a41 = FloatVector.zero(FS);
        FloatVector a50 = FloatVector.zero(FS);
        FloatVector a51 = FloatVector.zero(FS);
        FloatVector a60 = FloatVector.zero(FS);
        FloatVector a61 = FloatVector.zero(FS);
        FloatVector a70 = FloatVector.zero(FS);
        FloatVector a71 = FloatVector.zero(FS);
        FloatVector a80 = FloatVector.zero(FS);
        FloatVector a81 = FloatVector.zero(FS);
        FloatVector a90 = FloatVector.zero(FS);
        FloatVector a91 = FloatVector.zero(FS);
        FloatVector aa0 = FloatVector.zero(FS);
        FloatVector aa1 = FloatVector.zero(FS);
        FloatVector ab0 = FloatVector.zero(FS);
        FloatVector ab1 = FloatVector.zero(FS);
        int w1 = in;
        int w2 = 2 * in;
        int w3 = 3 * in;
        int w4 = 4 * in;
        int w5 = 5 * in;
        int w6 = 6 * in;
        int w7 = 7 * in;
        int w8 = 8 * in;
        int w9 = 9 * in;
        int wa = 10 * in;
        int wb = 11 * in;
        for (int i = 0; i < in; i++) {
            int xi = p0 + i * WIDTH;
            FloatVector x0 = FloatVector.fromArray(FS, p, xi);
            FloatVector x1 = FloatVector.fromArray(FS, p, xi + L);
            FloatVector b = FloatVector.broadcast(FS, w[i]);
            a00 = b.fma(x0, a00);
            a01 = b.fma(x1, a01);
            b = FloatVector.broadcast(FS, w[w1 + i]);
            a10 = b.fma(x0, a10);
            a11 = b.fma(x1, a11);
            b = FloatVector.broadcast(FS, w[w2 + i]);
            a20 = b.fma(x0, a20);
            a21 = b.fma(x1, a21);
            b = FloatVector.broadcast(FS, w[w3 + i]);
            a30 = b.fma(x0, a30);
            a31 = b.fma(x1, a31);
            b = FloatVector.broadcast(FS, w[w4 + i]);
            a40 = b.fma(x0, a40);
            a41 = b.fma(x1, a41);
            b = FloatVector.broadcast(FS, w[w5 + i]);
            a50 = b.fma(x0, a50);
            a51 = b.fma(x1, a51);
            b = FloatVector.broadcast(FS, w[w6 + i]);
            a60 = b.fma(x0, a60);
            a61 = b.fma(x1, a61);
            b = FloatVector.broadcast(FS, w[w7 + i]);
            a70 = b.fma(x0, a70);
            a71 = b.fma(x1, a71);
            b = FloatVector.broadcast(FS, w[w8 + i]);
            a80 = b.fma(x0, a80);
            a81 = b.fma(x1, a81);
            b = FloatVector.broadcast(FS, w[w9 + i]);
            a90 = b.fma(x0, a90);
            a91 = b.fma(x1, a91);
            b = FloatVector.broadcast(FS, w[wa + i]);
            aa0 = b.fma(x0, aa0);
            aa1 = b.fma(x1, aa1);
            b = FloatVector.broadcast(FS, w[wb + i]);
            ab0 = b.fma(x0, ab0);
            ab1 = b.fma(x1, ab1);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, L);
        a10.intoArray(acc, WIDTH);
        a11.intoArray(acc, WIDTH + L);
        a20.intoArray(acc, 2 * WIDTH);
        a21.intoArray(acc, 2 * WIDTH + L);
        a30.intoArray(acc, 3 * WIDTH);
        a31.intoArray(acc, 3 * WIDTH + L);
        a40.intoArray(acc, 4 * WIDTH);
        a41.intoArray(acc, 4 * WIDTH + L);
        a50.intoArray(acc, 5 * WIDTH);
        a51.intoArray(acc, 5 * WIDTH + L);
        a60.intoArray(acc, 6 * WIDTH);
        a61.intoArray(acc, 6 * WIDTH + L);
        a70.intoArray(acc, 7 * WIDTH);
        a71.intoArray(acc, 7 * WIDTH + L);
        a80.intoArray(acc, 8 * WIDTH);
        a81.intoArray(acc, 8 * WIDTH + L);
        a90.intoArray(acc, 9 * WIDTH);
        a91.intoArray(acc, 9 * WIDTH + L);
        aa0.intoArray(acc, 10 * WIDTH);
        aa1.intoArray(acc, 10 * WIDTH + L);
        ab0.intoArray(acc, 11 * WIDTH);
        ab1.intoArray(acc, 11 * WIDTH + L);
    }
}
