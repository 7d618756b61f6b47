package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java kernels for the K-quants (Q4_K, Q5_K, Q6_K held in ggml's blocks, {@link WeightPanel}): the fallback where
 * the native library ({@link KQuantKernels}) is absent, and the many-column (prefill) path everywhere. One or two
 * columns: the quants widened to float lanes in registers with the Vector API and multiplied with float32
 * activations, each weight widened once for both columns, per sub-block scales applied to each sub-block's sum
 * (ggml's formulas, {@code dequantize_row_q4_K} and its siblings, regrouped). Many columns: rows decoded to float32
 * ({@link #decode}) for {@link WeightKernels}' tiles. Activations stay float32, so the results carry no activation
 * rounding.
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
     * {@code y[c * rows + r]} stored, or added to when {@code add}. The quants are widened to float lanes in registers
     * and multiplied sub-block by sub-block, each sub-block's sum then scaled once; Q4_K/Q5_K's minimums go through
     * the sums of the activations of every 32 (computed once per call). Vectors of more than 16 floats decode each
     * block to float32 first.
     */
    static void multiply(WeightPanel p, float[] x, int n, int in, float[] y, int rows, int from, int to, boolean add) {
        if (from >= to) {
            return;
        }
        if (L > 16 || (p.format == WeightFormat.Q6_K && n == 1)) {
            // Q6_K, one column: widened in registers it ran at a third to a thirtieth of the two-column speed once C2
            // had compiled it (KernelBenchmark, JDK 17, whether in a method of its own or as the two-column one on
            // the same column twice; not understood yet): blocks decoded first, about 6 ms a 896x4864 product
            multiplyDecoded(p, x, n, in, y, rows, from, to, add);
            return;
        }
        boolean two = n == 2;
        if (p.format == WeightFormat.Q6_K) {
            for (int r = from; r < to; r++) {
                q6kRow2(p, r, x, in, y, rows, add);
            }
            return;
        }
        float[] sums = subBlockSums(x, n, in, p.first, p.cols);
        boolean five = p.format == WeightFormat.Q5_K;
        for (int r = from; r < to; r++) {
            // one method per column count: an accumulator updated under a condition can make C2 box vectors
            if (two) {
                q45kRow2(p, r, five, x, in, sums, p.cols / 32, y, rows, add);
            } else {
                q45kRow1(p, r, five, x, in, sums, p.cols / 32, y, rows, add);
            }
        }
    }

    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class,
            jdk.incubator.vector.VectorShape.forBitSize(L * 8));
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[0]);

    /** Per column, the sum of each 32 activations of the panel's columns (a per-thread array). */
    private static float[] subBlockSums(float[] x, int n, int in, int first, int cols) {
        int per = cols / 32;
        float[] s = SUMS.get();
        if (s.length < n * per) {
            s = new float[n * per];
            SUMS.set(s);
        }
        for (int c = 0; c < n; c++) {
            for (int j = 0; j < per; j++) {
                int at = c * in + first + 32 * j;
                FloatVector v = FloatVector.zero(FS);
                for (int i = 0; i < 32; i += L) {
                    v = v.add(FloatVector.fromArray(FS, x, at + i));
                }
                s[c * per + j] = v.reduceLanes(VectorOperators.ADD);
            }
        }
        return s;
    }

    /** {@code L} bytes from {@code b[at]} as int lanes (sign-extended). */
    private static jdk.incubator.vector.IntVector ints(byte[] b, int at) {
        return (jdk.incubator.vector.IntVector) jdk.incubator.vector.ByteVector.fromArray(BS, b, at)
                .convertShape(VectorOperators.B2I, IS, 0);
    }

    private static FloatVector floats(jdk.incubator.vector.IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    private static void q45kRow1(WeightPanel p, int r, boolean five, float[] x, int in, float[] sums,
                                int per, float[] y, int rows, boolean add) {
        byte[] b = p.data(r);
        int o = p.offset(r);
        int bb = p.format.blockBytes();
        int c0 = p.first;
        FloatVector a0 = FloatVector.zero(FS);
        float m0 = 0;
        for (int k = 0; k < p.blocks; k++) {
            int off = o + k * bb;
            float d = half(b, off);
            float dmin = half(b, off + 2);
            int sc = off + 4;
            int qh = off + 16;
            int qs = off + (five ? 48 : 16);
            for (int c = 0; c < 4; c++) {
                int j0 = 2 * c;
                int q = qs + 32 * c;
                int xi = c0 + k * QK + 64 * c;
                FloatVector lo0 = FloatVector.zero(FS);
                FloatVector hi0 = FloatVector.zero(FS);
                for (int j = 0; j < 32; j += L) {
                    jdk.incubator.vector.IntVector v = ints(b, q + j);
                    jdk.incubator.vector.IntVector lo = v.and(0x0F);
                    jdk.incubator.vector.IntVector hi = v.lanewise(VectorOperators.ASHR, 4).and(0x0F);
                    if (five) {
                        jdk.incubator.vector.IntVector h = ints(b, qh + j).lanewise(VectorOperators.ASHR, j0);
                        lo = lo.or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    }
                    FloatVector fl = floats(lo);
                    FloatVector fh = floats(hi);
                    lo0 = fl.fma(FloatVector.fromArray(FS, x, xi + j), lo0);
                    hi0 = fh.fma(FloatVector.fromArray(FS, x, xi + 32 + j), hi0);
                }
                float s0 = d * scale(b, sc, j0);
                float s1 = d * scale(b, sc, j0 + 1);
                float n0 = dmin * min(b, sc, j0);
                float n1 = dmin * min(b, sc, j0 + 1);
                int sub = (k * QK + 64 * c) / 32;
                a0 = hi0.fma(FloatVector.broadcast(FS, s1), lo0.fma(FloatVector.broadcast(FS, s0), a0));
                m0 += n0 * sums[sub] + n1 * sums[sub + 1];
            }
        }
        float r0 = a0.reduceLanes(VectorOperators.ADD) - m0;
        y[r] = add ? y[r] + r0 : r0;
    }

    private static void q45kRow2(WeightPanel p, int r, boolean five, float[] x, int in, float[] sums,
                                int per, float[] y, int rows, boolean add) {
        byte[] b = p.data(r);
        int o = p.offset(r);
        int bb = p.format.blockBytes();
        int c0 = p.first;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        float m0 = 0;
        float m1 = 0;
        for (int k = 0; k < p.blocks; k++) {
            int off = o + k * bb;
            float d = half(b, off);
            float dmin = half(b, off + 2);
            int sc = off + 4;
            int qh = off + 16;
            int qs = off + (five ? 48 : 16);
            for (int c = 0; c < 4; c++) {
                int j0 = 2 * c;
                int q = qs + 32 * c;
                int xi = c0 + k * QK + 64 * c;
                FloatVector lo0 = FloatVector.zero(FS);
                FloatVector hi0 = FloatVector.zero(FS);
                FloatVector lo1 = FloatVector.zero(FS);
                FloatVector hi1 = FloatVector.zero(FS);
                for (int j = 0; j < 32; j += L) {
                    jdk.incubator.vector.IntVector v = ints(b, q + j);
                    jdk.incubator.vector.IntVector lo = v.and(0x0F);
                    jdk.incubator.vector.IntVector hi = v.lanewise(VectorOperators.ASHR, 4).and(0x0F);
                    if (five) {
                        jdk.incubator.vector.IntVector h = ints(b, qh + j).lanewise(VectorOperators.ASHR, j0);
                        lo = lo.or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    }
                    FloatVector fl = floats(lo);
                    FloatVector fh = floats(hi);
                    lo0 = fl.fma(FloatVector.fromArray(FS, x, xi + j), lo0);
                    hi0 = fh.fma(FloatVector.fromArray(FS, x, xi + 32 + j), hi0);
                    lo1 = fl.fma(FloatVector.fromArray(FS, x, in + xi + j), lo1);
                    hi1 = fh.fma(FloatVector.fromArray(FS, x, in + xi + 32 + j), hi1);
                }
                float s0 = d * scale(b, sc, j0);
                float s1 = d * scale(b, sc, j0 + 1);
                float n0 = dmin * min(b, sc, j0);
                float n1 = dmin * min(b, sc, j0 + 1);
                int sub = (k * QK + 64 * c) / 32;
                a0 = hi0.fma(FloatVector.broadcast(FS, s1), lo0.fma(FloatVector.broadcast(FS, s0), a0));
                m0 += n0 * sums[sub] + n1 * sums[sub + 1];
                a1 = hi1.fma(FloatVector.broadcast(FS, s1), lo1.fma(FloatVector.broadcast(FS, s0), a1));
                m1 += n0 * sums[per + sub] + n1 * sums[per + sub + 1];
            }
        }
        float r0 = a0.reduceLanes(VectorOperators.ADD) - m0;
        y[r] = add ? y[r] + r0 : r0;
        float r1 = a1.reduceLanes(VectorOperators.ADD) - m1;
        y[rows + r] = add ? y[rows + r] + r1 : r1;
    }

    /** Row {@code r} times columns 0 and 1 ({@code in} apart). */
    private static void q6kRow2(WeightPanel p, int r, float[] x, int in, float[] y, int rows, boolean add) {
        byte[] b = p.data(r);
        int o = p.offset(r);
        int c0 = p.first;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        for (int k = 0; k < p.blocks; k++) {
            int off = o + k * 210;
            float d = half(b, off + 208);
            for (int half = 0; half < 2; half++) {
                int ql = off + 64 * half;
                int qh = off + 128 + 32 * half;
                int sc = off + 192 + 8 * half;
                int xi = c0 + k * QK + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int g = l / 16;
                    jdk.incubator.vector.IntVector lo = ints(b, ql + l);
                    jdk.incubator.vector.IntVector hi = ints(b, ql + 32 + l);
                    jdk.incubator.vector.IntVector h = ints(b, qh + l);
                    FloatVector q1 = floats(lo.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32))
                            .mul(d * b[sc + g]);
                    FloatVector q2 = floats(hi.and(0x0F).or(h.lanewise(VectorOperators.ASHR, 2).and(3)
                            .lanewise(VectorOperators.LSHL, 4)).sub(32)).mul(d * b[sc + g + 2]);
                    FloatVector q3 = floats(lo.lanewise(VectorOperators.ASHR, 4).and(0x0F).or(
                            h.lanewise(VectorOperators.ASHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32))
                            .mul(d * b[sc + g + 4]);
                    FloatVector q4 = floats(hi.lanewise(VectorOperators.ASHR, 4).and(0x0F).or(
                            h.lanewise(VectorOperators.ASHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32))
                            .mul(d * b[sc + g + 6]);
                    int at = xi + l;
                    a0 = q1.fma(FloatVector.fromArray(FS, x, at), a0);
                    a0 = q2.fma(FloatVector.fromArray(FS, x, at + 32), a0);
                    a0 = q3.fma(FloatVector.fromArray(FS, x, at + 64), a0);
                    a0 = q4.fma(FloatVector.fromArray(FS, x, at + 96), a0);
                    a1 = q1.fma(FloatVector.fromArray(FS, x, in + at), a1);
                    a1 = q2.fma(FloatVector.fromArray(FS, x, in + at + 32), a1);
                    a1 = q3.fma(FloatVector.fromArray(FS, x, in + at + 64), a1);
                    a1 = q4.fma(FloatVector.fromArray(FS, x, in + at + 96), a1);
                }
            }
        }
        float r0 = a0.reduceLanes(VectorOperators.ADD);
        y[r] = add ? y[r] + r0 : r0;
        float r1 = a1.reduceLanes(VectorOperators.ADD);
        y[rows + r] = add ? y[rows + r] + r1 : r1;
    }

    /** The plain way, for vectors of more than 16 floats: each block decoded to float32, then multiplied. */
    private static void multiplyDecoded(WeightPanel p, float[] x, int n, int in, float[] y, int rows, int from,
                                        int to, boolean add) {
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
