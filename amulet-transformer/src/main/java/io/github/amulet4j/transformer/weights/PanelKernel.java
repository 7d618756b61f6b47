package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The blocked many-column float32 kernel (prefill): the activations are packed once per product into panels of
 * {@value #VECTORS} vectors of columns ({@code [in][2L]}, columns zero-padded), then every tile of {@value #ROWS}
 * weight rows (widened to float32, in chunks of {@code L} inputs of all its rows, so that the twelve weights of one
 * input lie in one or two cache lines: twelve rows read side by side ran at half the speed) is multiplied with every panel by a register tile of {@value #ROWS} rows by
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
    /** Floats of a chunk of a widened tile: {@code L} inputs of each of its rows. */
    static final int CHUNK = ROWS * L;
    private static final int SHIFT = Integer.numberOfTrailingZeros(L);

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[0]);

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

    /** Floats of a widened tile of {@link #ROWS} rows of {@code in} weights. */
    static int tileSize(int in) {
        return (in + L - 1) / L * CHUNK;
    }

    /**
     * The {@link #ROWS} rows of the widened tile {@code w} (chunks of {@code L} inputs of every row: weight
     * {@code i} of row {@code r} at {@code WeightKernels.at(r, i, L, CHUNK)}) times every column of {@code packed}
     * (from {@link #pack}, {@code panels} panels) into {@code out}: row {@code r}, column {@code c} at
     * {@code out[o + r * stride + c]} ({@code stride >= panels * WIDTH}; columns past {@code n} are zero).
     */
    static void multiply(float[] w, int in, float[] packed, int panels, float[] out, int o, int stride) {
        for (int panel = 0; panel < panels; panel++) {
            tile(w, in, packed, panel * in * WIDTH, out, o + panel * WIDTH, stride);
        }
    }

    /** The register tile: {@code out[o + r * stride + c]} = row {@code r} of {@code w} times panel column {@code c}. */
    private static void tile(float[] w, int in, float[] p, int p0, float[] out, int o, int s) {
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
        for (int i = 0; i < in; i++) {
            int xi = p0 + i * WIDTH;
            int c = (i >> SHIFT) * CHUNK + (i & (L - 1));
            FloatVector x0 = FloatVector.fromArray(FS, p, xi);
            FloatVector x1 = FloatVector.fromArray(FS, p, xi + L);
            FloatVector b0 = FloatVector.broadcast(FS, w[c + 0 * L]);
            a00 = b0.fma(x0, a00);
            a01 = b0.fma(x1, a01);
            FloatVector b1 = FloatVector.broadcast(FS, w[c + 1 * L]);
            a10 = b1.fma(x0, a10);
            a11 = b1.fma(x1, a11);
            FloatVector b2 = FloatVector.broadcast(FS, w[c + 2 * L]);
            a20 = b2.fma(x0, a20);
            a21 = b2.fma(x1, a21);
            FloatVector b3 = FloatVector.broadcast(FS, w[c + 3 * L]);
            a30 = b3.fma(x0, a30);
            a31 = b3.fma(x1, a31);
            FloatVector b4 = FloatVector.broadcast(FS, w[c + 4 * L]);
            a40 = b4.fma(x0, a40);
            a41 = b4.fma(x1, a41);
            FloatVector b5 = FloatVector.broadcast(FS, w[c + 5 * L]);
            a50 = b5.fma(x0, a50);
            a51 = b5.fma(x1, a51);
            FloatVector b6 = FloatVector.broadcast(FS, w[c + 6 * L]);
            a60 = b6.fma(x0, a60);
            a61 = b6.fma(x1, a61);
            FloatVector b7 = FloatVector.broadcast(FS, w[c + 7 * L]);
            a70 = b7.fma(x0, a70);
            a71 = b7.fma(x1, a71);
            FloatVector b8 = FloatVector.broadcast(FS, w[c + 8 * L]);
            a80 = b8.fma(x0, a80);
            a81 = b8.fma(x1, a81);
            FloatVector b9 = FloatVector.broadcast(FS, w[c + 9 * L]);
            a90 = b9.fma(x0, a90);
            a91 = b9.fma(x1, a91);
            FloatVector ba = FloatVector.broadcast(FS, w[c + 10 * L]);
            aa0 = ba.fma(x0, aa0);
            aa1 = ba.fma(x1, aa1);
            FloatVector bb = FloatVector.broadcast(FS, w[c + 11 * L]);
            ab0 = bb.fma(x0, ab0);
            ab1 = bb.fma(x1, ab1);
        }
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
