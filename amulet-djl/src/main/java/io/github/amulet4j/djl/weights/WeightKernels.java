package io.github.amulet4j.djl.weights;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Vector API kernels behind {@link WeightMatrix#multiply}: weights read from their (direct or mapped) byte
 * buffers in their stored format and widened to float32 in registers; activations stay float32.
 *
 * <p>One or two columns (a decode step, one or both Amulet streams): each weight is loaded once and multiplied
 * into both columns, so the second stream costs little more than the first. More columns (prefill): a tile of
 * rows is widened once into a per-thread float32 scratch that stays in cache while every column passes over it.
 *
 * <p>Why float32 activations and not llama.cpp's 8-bit ones for Q8_0/Q4_0: the JDK 17 Vector API has no 8-bit dot
 * product instruction (no {@code vpdpbusd}/{@code vpmaddubsw}), so integer products need as many widening steps as
 * converting the weights to float32 does, and float32 activations add no rounding of their own.
 *
 * <p>BF16 and F16 load 32-bit lanes that each hold two weights; the activations are reordered once per product
 * (even then odd elements of every {@code 2 * lanes} chunk) so that both halves of a lane meet their activation.
 */
final class WeightKernels {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final int L = FS.length();
    /** Bytes that widen to one float vector. */
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows widened at once for many columns: 16 rows of 4,864 floats are 311 KB, within the L2 cache. */
    static final int TILE_ROWS = 16;
    /** A half's bits moved into a float's (sign kept, exponent rebased by 2^-112). */
    private static final int HALF_MASK = 0x8FFFE000;
    private static final float HALF_SCALE = 0x1p112f;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private WeightKernels() {
    }

    static void multiply(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        if (from >= to) {
            return;
        }
        if (n > 2) {
            manyColumns(m, x, n, y, from, to);
            return;
        }
        int in = m.cols();
        int rows = m.rows();
        WeightFormat f = m.format();
        float[] xs = f == WeightFormat.BF16 || f == WeightFormat.F16 ? pairSplit(x, n, in) : x;
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            switch (f) {
                case F32 -> f32(b, p, in, xs, n, y, rows, r);
                case BF16 -> bf16(b, p, in, xs, n, y, rows, r);
                case F16 -> f16(b, p, in, xs, n, y, rows, r);
                case Q8_0 -> q80(b, p, in, xs, n, y, rows, r);
                case Q4_0 -> q40(b, p, in, xs, n, y, rows, r);
            }
        }
    }

    /**
     * Per column, every chunk of {@code 2 * L} activations reordered as its even elements then its odd ones (the
     * order in which a 32-bit lane's low and high halves hold BF16/F16 weights); a shorter tail stays in place.
     */
    static float[] pairSplit(float[] x, int n, int in) {
        float[] out = new float[n * in];
        int chunk = 2 * L;
        for (int c = 0; c < n; c++) {
            int base = c * in;
            int i = 0;
            for (; i + chunk <= in; i += chunk) {
                for (int k = 0; k < L; k++) {
                    out[base + i + k] = x[base + i + 2 * k];
                    out[base + i + L + k] = x[base + i + 2 * k + 1];
                }
            }
            System.arraycopy(x, base + i, out, base + i, in - i);
        }
        return out;
    }

    private static void f32(ByteBuffer b, int p, int in, float[] x, int n, float[] y, int rows, int r) {
        int bound = FS.loopBound(in);
        FloatVector a0 = FloatVector.zero(FS);
        if (n == 1) {
            int i = 0;
            for (; i < bound; i += L) {
                a0 = FloatVector.fromByteBuffer(FS, b, p + 4 * i, LE).fma(FloatVector.fromArray(FS, x, i), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) {
                s += b.getFloat(p + 4 * i) * x[i];
            }
            y[r] = s;
            return;
        }
        FloatVector a1 = FloatVector.zero(FS);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector w = FloatVector.fromByteBuffer(FS, b, p + 4 * i, LE);
            a0 = w.fma(FloatVector.fromArray(FS, x, i), a0);
            a1 = w.fma(FloatVector.fromArray(FS, x, in + i), a1);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            float w = b.getFloat(p + 4 * i);
            s0 += w * x[i];
            s1 += w * x[in + i];
        }
        y[r] = s0;
        y[rows + r] = s1;
    }

    private static void bf16(ByteBuffer b, int p, int in, float[] x, int n, float[] y, int rows, int r) {
        int chunk = 2 * L;
        int bound = in - in % chunk;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        int i = 0;
        for (; i < bound; i += chunk) {
            IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
            FloatVector even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = v.and(0xFFFF0000).reinterpretAsFloats();
            a0 = even.fma(FloatVector.fromArray(FS, x, i), a0);
            a0 = odd.fma(FloatVector.fromArray(FS, x, i + L), a0);
            if (n == 2) {
                a1 = even.fma(FloatVector.fromArray(FS, x, in + i), a1);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + i + L), a1);
            }
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            float w = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xFFFF) << 16);
            s0 += w * x[i];
            if (n == 2) {
                s1 += w * x[in + i];
            }
        }
        y[r] = s0;
        if (n == 2) {
            y[rows + r] = s1;
        }
    }

    private static void f16(ByteBuffer b, int p, int in, float[] x, int n, float[] y, int rows, int r) {
        int chunk = 2 * L;
        int bound = in - in % chunk;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        int i = 0;
        for (; i < bound; i += chunk) {
            IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
            // low half: moved to the top, then sign kept and exponent/mantissa shifted into a float's places
            FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                    .and(HALF_MASK).reinterpretAsFloats();
            FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats();
            a0 = even.fma(FloatVector.fromArray(FS, x, i), a0);
            a0 = odd.fma(FloatVector.fromArray(FS, x, i + L), a0);
            if (n == 2) {
                a1 = even.fma(FloatVector.fromArray(FS, x, in + i), a1);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + i + L), a1);
            }
        }
        // the rebasing factor applied once to the sums (every product above was 2^-112 too small; exact)
        float s0 = a0.reduceLanes(VectorOperators.ADD) * HALF_SCALE;
        float s1 = a1.reduceLanes(VectorOperators.ADD) * HALF_SCALE;
        for (; i < in; i++) {
            float w = half(b.getShort(p + 2 * i));
            s0 += w * x[i];
            if (n == 2) {
                s1 += w * x[in + i];
            }
        }
        y[r] = s0;
        if (n == 2) {
            y[rows + r] = s1;
        }
    }

    private static void q80(ByteBuffer b, int p, int in, float[] x, int n, float[] y, int rows, int r) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        int blocks = in / WeightFormat.BLOCK;
        for (int k = 0; k < blocks; k++) {
            int q = p + k * 34;
            FloatVector d = FloatVector.broadcast(FS, half(b.getShort(q)));
            int xi = k * WeightFormat.BLOCK;
            FloatVector s0 = FloatVector.zero(FS);
            FloatVector s1 = FloatVector.zero(FS);
            for (int j = 0; j < WeightFormat.BLOCK; j += L) {
                FloatVector w = (FloatVector) ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, FS, 0);
                s0 = w.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                if (n == 2) {
                    s1 = w.fma(FloatVector.fromArray(FS, x, in + xi + j), s1);
                }
            }
            a0 = s0.fma(d, a0);
            if (n == 2) {
                a1 = s1.fma(d, a1);
            }
        }
        y[r] = a0.reduceLanes(VectorOperators.ADD);
        if (n == 2) {
            y[rows + r] = a1.reduceLanes(VectorOperators.ADD);
        }
    }

    private static void q40(ByteBuffer b, int p, int in, float[] x, int n, float[] y, int rows, int r) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        int blocks = in / WeightFormat.BLOCK;
        for (int k = 0; k < blocks; k++) {
            int q = p + k * 18;
            FloatVector d = FloatVector.broadcast(FS, half(b.getShort(q)));
            int xi = k * WeightFormat.BLOCK;
            FloatVector s0 = FloatVector.zero(FS);
            FloatVector s1 = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector packed = ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE);
                FloatVector lo = (FloatVector) packed.and((byte) 0x0F).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, FS, 0);
                FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .sub((byte) 8).convertShape(VectorOperators.B2F, FS, 0);
                s0 = lo.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                s0 = hi.fma(FloatVector.fromArray(FS, x, xi + 16 + j), s0);
                if (n == 2) {
                    s1 = lo.fma(FloatVector.fromArray(FS, x, in + xi + j), s1);
                    s1 = hi.fma(FloatVector.fromArray(FS, x, in + xi + 16 + j), s1);
                }
            }
            a0 = s0.fma(d, a0);
            if (n == 2) {
                a1 = s1.fma(d, a1);
            }
        }
        y[r] = a0.reduceLanes(VectorOperators.ADD);
        if (n == 2) {
            y[rows + r] = a1.reduceLanes(VectorOperators.ADD);
        }
    }

    /** An IEEE half's bits as float32 (finite values, subnormals included). */
    static float half(short h) {
        int bits = h << 16;
        return Float.intBitsToFloat((bits >> 3) & HALF_MASK) * HALF_SCALE;
    }

    /**
     * Many columns: each tile of rows is widened once into float32 scratch, then multiplied with every column
     * (pairs of rows by pairs of columns: four accumulators, each load serving two products).
     */
    private static void manyColumns(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        float[] w = SCRATCH.get();
        if (w.length < TILE_ROWS * in) {
            w = new float[TILE_ROWS * in];
            SCRATCH.set(w);
        }
        for (int tile = from; tile < to; tile += TILE_ROWS) {
            int end = Math.min(to, tile + TILE_ROWS);
            for (int r = tile; r < end; r++) {
                m.row(r, w, (r - tile) * in);
            }
            FloatTile.multiply(w, tile, end, in, x, n, y, rows);
        }
    }
}
