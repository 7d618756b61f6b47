package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java kernels for the K-quants (Q4_K, Q5_K, Q6_K held in ggml's blocks, {@link WeightPanel}): the fallback where
 * the native library ({@link KQuantKernels}) is absent, and the many-column (prefill) path everywhere. Each block of
 * 256 weights is decoded to float32 into a per-thread scratch with ggml's formulas ({@code dequantize_row_q4_K} and
 * its siblings), then multiplied with one or two float32 activation columns by the Vector API, each weight decoded
 * once for both columns. Activations stay float32, so the results carry no activation rounding.
 */
final class KQuantJava {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    private static final int QK = WeightFormat.SUPER_BLOCK;
    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[QK]);
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private KQuantJava() {
    }

    /**
     * One panel's rows {@code [from, to)} times {@code n} (1 or 2) columns of {@code x} ({@code in} values a column):
     * {@code y[c * rows + r]} stored, or added to when {@code add}.
     */
    static void multiply(WeightPanel p, float[] x, int n, int in, float[] y, int rows, int from, int to, boolean add) {
        float[] w = BLOCK.get();
        int bb = p.format.blockBytes();
        int c0 = p.first;
        boolean two = n == 2;
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            for (int k = 0; k < p.blocks; k++) {
                decode(p.format, b, o + k * bb, w, 0);
                int xi = c0 + k * QK;
                for (int i = 0; i < QK; i += L) {
                    FloatVector wv = FloatVector.fromArray(FS, w, i);
                    a0 = wv.fma(FloatVector.fromArray(FS, x, xi + i), a0);
                    if (two) {
                        a1 = wv.fma(FloatVector.fromArray(FS, x, in + xi + i), a1);
                    }
                }
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            y[r] = add ? y[r] + s0 : s0;
            if (two) {
                float s1 = a1.reduceLanes(VectorOperators.ADD);
                y[rows + r] = add ? y[rows + r] + s1 : s1;
            }
        }
    }

    /**
     * Rows {@code [from, to)} of a panel as float32 into {@code dst}, weight {@code i} of row {@code from + r} at
     * {@code base + (i / L) * cs + r * rs + i % L} ({@link WeightKernels#widen}'s layouts).
     */
    static void widen(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int cols = p.cols;
        float[] row = ROW.get();
        if (row.length < cols) {
            row = new float[cols];
            ROW.set(row);
        }
        int bb = p.format.blockBytes();
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            for (int k = 0; k < p.blocks; k++) {
                decode(p.format, b, o + k * bb, row, k * QK);
            }
            int at = base + (r - from) * rs;
            for (int i = 0; i < cols; i += L) {
                System.arraycopy(row, i, dst, at + i / L * cs, L);
            }
        }
    }

    /** One block of {@code format} at {@code b[off...]} as 256 float32 values into {@code dst[dstOff...]}. */
    static void decode(WeightFormat format, byte[] b, int off, float[] dst, int dstOff) {
        switch (format) {
            case Q4_K -> q45k(b, off, false, dst, dstOff);
            case Q5_K -> q45k(b, off, true, dst, dstOff);
            case Q6_K -> q6k(b, off, dst, dstOff);
            default -> throw new IllegalArgumentException(format + " is not a K-quant");
        }
    }

    private static float half(byte[] b, int at) {
        return WeightKernels.half((short) ((b[at] & 0xFF) | (b[at + 1] << 8)));
    }

    private static void q45k(byte[] b, int off, boolean five, float[] dst, int o) {
        float d = half(b, off);
        float dmin = half(b, off + 2);
        int sc = off + 4;
        int qh = off + 16;
        int qs = off + (five ? 48 : 16);
        for (int c = 0; c < 4; c++) {
            int j0 = 2 * c;
            int j1 = 2 * c + 1;
            float d0 = d * scale(b, sc, j0);
            float m0 = dmin * min(b, sc, j0);
            float d1 = d * scale(b, sc, j1);
            float m1 = dmin * min(b, sc, j1);
            int q = qs + 32 * c;
            int at = o + 64 * c;
            if (five) {
                for (int l = 0; l < 32; l++) {
                    int v = b[q + l] & 0xFF;
                    int h = b[qh + l] >>> j0;
                    dst[at + l] = d0 * ((v & 0x0F) | ((h & 1) << 4)) - m0;
                    dst[at + 32 + l] = d1 * ((v >>> 4) | ((h & 2) << 3)) - m1;
                }
            } else {
                for (int l = 0; l < 32; l++) {
                    int v = b[q + l] & 0xFF;
                    dst[at + l] = d0 * (v & 0x0F) - m0;
                    dst[at + 32 + l] = d1 * (v >>> 4) - m1;
                }
            }
        }
    }

    /** The 6-bit scale {@code j} (0..7) of a Q4_K/Q5_K block's 12 scale bytes at {@code b[s...]}. */
    private static int scale(byte[] b, int s, int j) {
        return j < 4 ? b[s + j] & 63 : (b[s + j + 4] & 0x0F) | (((b[s + j - 4] & 0xFF) >>> 6) << 4);
    }

    /** The 6-bit minimum {@code j} (0..7). */
    private static int min(byte[] b, int s, int j) {
        return j < 4 ? b[s + j + 4] & 63 : ((b[s + j + 4] & 0xFF) >>> 4) | (((b[s + j] & 0xFF) >>> 6) << 4);
    }

    private static void q6k(byte[] b, int off, float[] dst, int o) {
        float d = half(b, off + 208);
        for (int half = 0; half < 2; half++) {
            int ql = off + 64 * half;
            int qh = off + 128 + 32 * half;
            int sc = off + 192 + 8 * half;
            int at = o + 128 * half;
            for (int g = 0; g < 2; g++) {
                float s0 = d * b[sc + g];
                float s1 = d * b[sc + g + 2];
                float s2 = d * b[sc + g + 4];
                float s3 = d * b[sc + g + 6];
                for (int l = 16 * g; l < 16 * g + 16; l++) {
                    int lo = b[ql + l] & 0xFF;
                    int hi = b[ql + l + 32] & 0xFF;
                    int h = b[qh + l] & 0xFF;
                    dst[at + l] = s0 * (((lo & 0x0F) | ((h & 3) << 4)) - 32);
                    dst[at + l + 32] = s1 * (((hi & 0x0F) | (((h >>> 2) & 3) << 4)) - 32);
                    dst[at + l + 64] = s2 * (((lo >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                    dst[at + l + 96] = s3 * (((hi >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
                }
            }
        }
    }
}
