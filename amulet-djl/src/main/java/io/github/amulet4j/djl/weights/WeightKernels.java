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
 * rows is widened once into a per-thread float32 scratch that stays in cache while every column passes over it:
 * from {@value #PANEL_COLUMNS} columns by {@link PanelKernel} (activations packed into panels, twelve rows by two
 * vectors of columns in registers), below that by {@link FloatTile} (four rows by three columns, dot products).
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
    /** Bytes that widen to two float vectors ({@code B2F} parts 0 and 1). */
    private static final VectorSpecies<Byte> BS2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows widened at once for many columns: 16 rows of 4,864 floats are 311 KB, within the L2 cache. */
    static final int TILE_ROWS = 16;
    /** Columns from which {@link PanelKernel} is used (fewer: {@link FloatTile}, whose tiles are three columns). */
    static final int PANEL_COLUMNS = 16;
    /** A half's bits moved into a float's (sign kept, exponent rebased by 2^-112). */
    private static final int HALF_MASK = 0x8FFFE000;
    private static final float HALF_SCALE = 0x1p112f;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PAIRS = ThreadLocal.withInitial(() -> new float[0]);
    /** A block of the many-column kernel's results, {@code [rows][panel columns]}. */
    private static final ThreadLocal<float[]> OUT = ThreadLocal.withInitial(() -> new float[0]);

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
        // One method per format and column count, each with its row loop inside: C2 then compiles each on its own,
        // and no vector value merges at a branch (a conditional update of an accumulator made C2 box vectors here,
        // 3-10x slower).
        WeightFormat f = m.format();
        boolean two = n == 2;
        switch (f) {
            case F32 -> {
                if (two) {
                    f32x2(m, x, y, from, to);
                } else {
                    f32x1(m, x, y, from, to);
                }
            }
            case BF16, F16 -> {
                float[] xs = pairSplit(x, n, m.cols());
                if (f == WeightFormat.BF16) {
                    if (two) {
                        bf16x2(m, xs, y, from, to);
                    } else {
                        bf16x1(m, xs, y, from, to);
                    }
                } else if (two) {
                    f16x2(m, xs, y, from, to);
                } else {
                    f16x1(m, xs, y, from, to);
                }
            }
            case Q8_0 -> {
                if (two) {
                    q80x2(m, x, y, from, to);
                } else {
                    q80x1(m, x, y, from, to);
                }
            }
            case Q4_0 -> {
                if (two) {
                    q40x2(m, x, y, from, to);
                } else {
                    q40x1(m, x, y, from, to);
                }
            }
        }
    }

    /**
     * Per column, every chunk of {@code 2 * L} activations reordered as its even elements then its odd ones (the
     * order in which a 32-bit lane's low and high halves hold BF16/F16 weights); a shorter tail stays in place. The
     * result is a per-thread array, valid until the thread's next call (a new array per call made a prefill of two
     * 1,500-token streams allocate gigabytes, and the heap grew with them).
     */
    static float[] pairSplit(float[] x, int n, int in) {
        float[] out = PAIRS.get();
        if (out.length < n * in) {
            out = new float[n * in];
            PAIRS.set(out);
        }
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

    private static void f32x1(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int bound = FS.loopBound(in);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += L) {
                a0 = FloatVector.fromByteBuffer(FS, b, p + 4 * i, LE).fma(FloatVector.fromArray(FS, x, i), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) {
                s += b.getFloat(p + 4 * i) * x[i];
            }
            y[r] = s;
        }
    }

    private static void f32x2(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        int bound = FS.loopBound(in);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
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
    }

    private static void bf16x1(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(FS, x, i), a0);
                a0 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(FS, x, i + L), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) {
                s += Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xFFFF) << 16) * x[i];
            }
            y[r] = s;
        }
    }

    private static void bf16x2(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector odd = v.and(0xFFFF0000).reinterpretAsFloats();
                a0 = even.fma(FloatVector.fromArray(FS, x, i), a0);
                a1 = even.fma(FloatVector.fromArray(FS, x, in + i), a1);
                a0 = odd.fma(FloatVector.fromArray(FS, x, i + L), a0);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + i + L), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) {
                float w = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xFFFF) << 16);
                s0 += w * x[i];
                s1 += w * x[in + i];
            }
            y[r] = s0;
            y[rows + r] = s1;
        }
    }

    private static void f16x1(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                // low half moved to the top, then sign kept and exponent/mantissa shifted into a float's places
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                        .and(HALF_MASK).reinterpretAsFloats();
                FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats();
                a0 = even.fma(FloatVector.fromArray(FS, x, i), a0);
                a0 = odd.fma(FloatVector.fromArray(FS, x, i + L), a0);
            }
            // the rebasing factor applied once to the sum (every product above was 2^-112 too small; exact)
            float s = a0.reduceLanes(VectorOperators.ADD) * HALF_SCALE;
            for (; i < in; i++) {
                s += half(b.getShort(p + 2 * i)) * x[i];
            }
            y[r] = s;
        }
    }

    private static void f16x2(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                        .and(HALF_MASK).reinterpretAsFloats();
                FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats();
                a0 = even.fma(FloatVector.fromArray(FS, x, i), a0);
                a1 = even.fma(FloatVector.fromArray(FS, x, in + i), a1);
                a0 = odd.fma(FloatVector.fromArray(FS, x, i + L), a0);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + i + L), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD) * HALF_SCALE;
            float s1 = a1.reduceLanes(VectorOperators.ADD) * HALF_SCALE;
            for (; i < in; i++) {
                float w = half(b.getShort(p + 2 * i));
                s0 += w * x[i];
                s1 += w * x[in + i];
            }
            y[r] = s0;
            y[rows + r] = s1;
        }
    }

    private static void q80x1(WeightMatrix m, float[] x, float[] y, int from, int to) {
        if (WeightFormat.BLOCK != 2 * L) {
            q80x1AnyWidth(m, x, y, from, to);
            return;
        }
        int blocks = m.cols() / WeightFormat.BLOCK;
        float[] d = new float[blocks];
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            scales(b, p, blocks, 34, d);
            // a block's 32 bytes in one load, widened twice; two accumulators (even and odd blocks), so that one
            // block's sum does not wait for the previous one
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int k = 0;
            for (; k + 2 <= blocks; k += 2) {
                int q = p + k * 34;
                int xi = k * WeightFormat.BLOCK;
                ByteVector v0 = ByteVector.fromByteBuffer(BS2, b, q + 2, LE);
                ByteVector v1 = ByteVector.fromByteBuffer(BS2, b, q + 36, LE);
                FloatVector s0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, FS, 0))
                        .mul(FloatVector.fromArray(FS, x, xi));
                s0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, FS, 1))
                        .fma(FloatVector.fromArray(FS, x, xi + L), s0);
                FloatVector s1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, FS, 0))
                        .mul(FloatVector.fromArray(FS, x, xi + 2 * L));
                s1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, FS, 1))
                        .fma(FloatVector.fromArray(FS, x, xi + 3 * L), s1);
                a0 = s0.fma(FloatVector.broadcast(FS, d[k]), a0);
                a1 = s1.fma(FloatVector.broadcast(FS, d[k + 1]), a1);
            }
            if (k < blocks) {
                a0 = q80Block(b, p + k * 34, x, k * WeightFormat.BLOCK).fma(FloatVector.broadcast(FS, d[k]), a0);
            }
            y[r] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
    }

    /** {@link #q80x1} for vectors of other than 16 floats. */
    private static void q80x1AnyWidth(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int blocks = m.cols() / WeightFormat.BLOCK;
        float[] d = new float[blocks];
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            scales(b, p, blocks, 34, d);
            FloatVector a0 = FloatVector.zero(FS);
            for (int k = 0; k < blocks; k++) {
                a0 = q80Block(b, p + k * 34, x, k * WeightFormat.BLOCK).fma(FloatVector.broadcast(FS, d[k]), a0);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * The unscaled lane sums of one Q8_0 block at {@code q} times {@code x[xi...xi + 32)}: the block's 32 bytes read
     * {@code 2L} at a time, each load widened twice ({@code B2F} parts 0 and 1).
     */
    private static FloatVector q80Block(ByteBuffer b, int q, float[] x, int xi) {
        FloatVector s = FloatVector.zero(FS);
        for (int j = 0; j < WeightFormat.BLOCK; j += 2 * L) {
            ByteVector v = ByteVector.fromByteBuffer(BS2, b, q + 2 + j, LE);
            s = ((FloatVector) v.convertShape(VectorOperators.B2F, FS, 0)).fma(FloatVector.fromArray(FS, x, xi + j), s);
            s = ((FloatVector) v.convertShape(VectorOperators.B2F, FS, 1)).fma(FloatVector.fromArray(FS, x, xi + j + L), s);
        }
        return s;
    }

    private static void q80x2(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        int blocks = in / WeightFormat.BLOCK;
        float[] d = new float[blocks];
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            scales(b, p, blocks, 34, d);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            for (int k = 0; k < blocks; k++) {
                int q = p + k * 34;
                int xi = k * WeightFormat.BLOCK;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                for (int j = 0; j < WeightFormat.BLOCK; j += 2 * L) {
                    ByteVector v = ByteVector.fromByteBuffer(BS2, b, q + 2 + j, LE);
                    FloatVector lo = (FloatVector) v.convertShape(VectorOperators.B2F, FS, 0);
                    FloatVector hi = (FloatVector) v.convertShape(VectorOperators.B2F, FS, 1);
                    s0 = lo.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                    s1 = lo.fma(FloatVector.fromArray(FS, x, in + xi + j), s1);
                    s0 = hi.fma(FloatVector.fromArray(FS, x, xi + j + L), s0);
                    s1 = hi.fma(FloatVector.fromArray(FS, x, in + xi + j + L), s1);
                }
                FloatVector dv = FloatVector.broadcast(FS, d[k]);
                a0 = s0.fma(dv, a0);
                a1 = s1.fma(dv, a1);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD);
            y[rows + r] = a1.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * Per column and block of 32, the sum of the activations times 8: Q4_0's {@code d * sum (q - 8) x} is computed as
     * {@code d * (sum q x - 8 sum x)}, which keeps the subtraction out of the inner loop.
     */
    private static float[] blockSums8(float[] x, int n, int in) {
        int blocks = in / WeightFormat.BLOCK;
        float[] out = new float[n * blocks];
        for (int c = 0; c < n; c++) {
            for (int k = 0; k < blocks; k++) {
                float s = 0;
                int o = c * in + k * WeightFormat.BLOCK;
                for (int j = 0; j < WeightFormat.BLOCK; j++) {
                    s += x[o + j];
                }
                out[c * blocks + k] = 8 * s;
            }
        }
        return out;
    }

    private static void q40x1(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int blocks = m.cols() / WeightFormat.BLOCK;
        float[] sums = blockSums8(x, 1, m.cols());
        float[] d = new float[blocks];
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            scales(b, p, blocks, 18, d);
            float corr = 0;
            for (int k = 0; k < blocks; k++) {
                corr += d[k] * sums[k];
            }
            FloatVector a0 = FloatVector.zero(FS);
            for (int k = 0; k < blocks; k++) {
                int q = p + k * 18;
                int xi = k * WeightFormat.BLOCK;
                FloatVector s0 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    IntVector packed = (IntVector) ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE)
                            .convertShape(VectorOperators.B2I, IS, 0);
                    FloatVector lo = (FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0);
                    FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0x0F)
                            .convert(VectorOperators.I2F, 0);
                    s0 = lo.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                    s0 = hi.fma(FloatVector.fromArray(FS, x, xi + 16 + j), s0);
                }
                a0 = s0.fma(FloatVector.broadcast(FS, d[k]), a0);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD) - corr;
        }
    }

    private static void q40x2(WeightMatrix m, float[] x, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        int blocks = in / WeightFormat.BLOCK;
        float[] sums = blockSums8(x, 2, in);
        float[] d = new float[blocks];
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            scales(b, p, blocks, 18, d);
            float corr0 = 0;
            float corr1 = 0;
            for (int k = 0; k < blocks; k++) {
                corr0 += d[k] * sums[k];
                corr1 += d[k] * sums[blocks + k];
            }
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            for (int k = 0; k < blocks; k++) {
                int q = p + k * 18;
                int xi = k * WeightFormat.BLOCK;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    IntVector packed = (IntVector) ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE)
                            .convertShape(VectorOperators.B2I, IS, 0);
                    FloatVector lo = (FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0);
                    FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0x0F)
                            .convert(VectorOperators.I2F, 0);
                    s0 = lo.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                    s0 = hi.fma(FloatVector.fromArray(FS, x, xi + 16 + j), s0);
                    s1 = lo.fma(FloatVector.fromArray(FS, x, in + xi + j), s1);
                    s1 = hi.fma(FloatVector.fromArray(FS, x, in + xi + 16 + j), s1);
                }
                FloatVector dv = FloatVector.broadcast(FS, d[k]);
                a0 = s0.fma(dv, a0);
                a1 = s1.fma(dv, a1);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD) - corr0;
            y[rows + r] = a1.reduceLanes(VectorOperators.ADD) - corr1;
        }
    }

    /** The block scales of one row (halves every {@code stride} bytes from {@code p}) as float32 into {@code d}. */
    private static void scales(ByteBuffer b, int p, int blocks, int stride, float[] d) {
        for (int k = 0; k < blocks; k++) {
            d[k] = half(b.getShort(p + k * stride));
        }
    }

    /** An IEEE half's bits as float32 (finite values, subnormals included). */
    static float half(short h) {
        int bits = h << 16;
        return Float.intBitsToFloat((bits >> 3) & HALF_MASK) * HALF_SCALE;
    }

    /**
     * Many columns: each tile of rows is widened once into float32 scratch (BF16/F16 rows in the pair-split order,
     * with the activations reordered to match), then multiplied with every column by {@link FloatTile}.
     */
    private static void manyColumns(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        if (n >= PANEL_COLUMNS) {
            panels(m, x, n, y, from, to);
            return;
        }
        int in = m.cols();
        int rows = m.rows();
        WeightFormat f = m.format();
        float[] xs = f == WeightFormat.BF16 || f == WeightFormat.F16 ? pairSplit(x, n, in) : x;
        float[] w = scratch(TILE_ROWS * in);
        for (int tile = from; tile < to; tile += TILE_ROWS) {
            int end = Math.min(to, tile + TILE_ROWS);
            widen(m, tile, end, w);
            FloatTile.multiply(w, tile, end, in, xs, n, y, rows);
        }
    }

    /**
     * {@link #PANEL_COLUMNS} or more columns: the activations packed once into panels; blocks of rows whose results
     * ({@code [rows][columns]}) fit in 128 KB; in a block, each tile of {@link PanelKernel#ROWS} rows widened once
     * and multiplied with every panel, its results stored as whole vectors; then the
     * block's results copied into {@code y}'s {@code [columns][rows]} layout (runs of the block's rows).
     */
    private static void panels(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        int in = m.cols();
        int rows = m.rows();
        WeightFormat f = m.format();
        float[] xs = f == WeightFormat.BF16 || f == WeightFormat.F16 ? pairSplit(x, n, in) : x;
        float[] packed = PanelKernel.pack(xs, n, in);
        int panels = PanelKernel.panels(n);
        // one vector more than the panels' columns: a power-of-two stride would map a column's rows to few cache sets
        int stride = panels * PanelKernel.WIDTH + FS.length();
        int tileRows = PanelKernel.ROWS;
        int blockRows = Math.max(1, Math.min(8, (32 * 1024 / stride) / tileRows)) * tileRows;
        int tileSize = PanelKernel.tileSize(in);
        float[] w = scratch(tileSize);
        float[] out = OUT.get();
        if (out.length < blockRows * stride) {
            out = new float[blockRows * stride];
            OUT.set(out);
        }
        for (int block = from; block < to; block += blockRows) {
            int blockEnd = Math.min(to, block + blockRows);
            for (int tile = block; tile < blockEnd; tile += tileRows) {
                int end = Math.min(blockEnd, tile + tileRows);
                // a last tile's rows past the range keep the previous tile's weights: computed, never copied to y
                widen(m, tile, end, w, L, PanelKernel.CHUNK);
                PanelKernel.multiply(w, in, packed, panels, out, (tile - block) * stride, stride);
            }
            int count = blockEnd - block;
            for (int c = 0; c < n; c++) {
                int yo = c * rows + block;
                for (int r = 0; r < count; r++) {
                    y[yo + r] = out[r * stride + c];
                }
            }
        }
    }

    /** The per-thread float32 scratch for widened rows, at least {@code size} long. */
    private static float[] scratch(int size) {
        float[] w = SCRATCH.get();
        if (w.length < size) {
            w = new float[size];
            SCRATCH.set(w);
        }
        return w;
    }

    /**
     * The kernels before the blocked many-column kernel ({@link FloatTile} for every column count above two), kept for the
     * benchmark's baseline and as a second independent computation in tests.
     */
    static void multiplyBaseline(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        if (n <= 2 || from >= to) {
            multiply(m, x, n, y, from, to);
            return;
        }
        int in = m.cols();
        WeightFormat f = m.format();
        float[] xs = f == WeightFormat.BF16 || f == WeightFormat.F16 ? pairSplit(x, n, in) : x;
        float[] w = scratch(TILE_ROWS * in);
        for (int tile = from; tile < to; tile += TILE_ROWS) {
            int end = Math.min(to, tile + TILE_ROWS);
            widen(m, tile, end, w);
            FloatTile.multiply(w, tile, end, in, xs, n, y, m.rows());
        }
    }

    /** Rows {@code [from, to)} as float32 into {@code dst} (row {@code r} at {@code (r - from) * cols}). */
    static void widen(WeightMatrix m, int from, int to, float[] dst) {
        widen(m, from, to, dst, m.cols(), L);
    }

    /**
     * Rows {@code [from, to)} as float32 into {@code dst}, weight {@code i} of row {@code from + r} at
     * {@link #at at(r, i, rowStride, chunkStride)}: row-major with {@code (cols, L)}; with {@code (L, rows * L)}
     * chunks of {@code L} inputs of every row one after the other ({@link PanelKernel}'s layout).
     */
    static void widen(WeightMatrix m, int from, int to, float[] dst, int rowStride, int chunkStride) {
        switch (m.format()) {
            case F32 -> widenF32(m, from, to, dst, rowStride, chunkStride);
            case BF16 -> widenBf16(m, from, to, dst, rowStride, chunkStride);
            case F16 -> widenF16(m, from, to, dst, rowStride, chunkStride);
            case Q8_0 -> widenQ80(m, from, to, dst, rowStride, chunkStride);
            case Q4_0 -> widenQ40(m, from, to, dst, rowStride, chunkStride);
        }
    }

    /** Where {@link #widen} puts weight {@code i} of tile row {@code r}. */
    static int at(int r, int i, int rowStride, int chunkStride) {
        return (i / L) * chunkStride + r * rowStride + i % L;
    }

    private static void widenF32(WeightMatrix m, int from, int to, float[] dst, int rs, int cs) {
        int in = m.cols();
        int bound = FS.loopBound(in);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            int o = (r - from) * rs;
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector.fromByteBuffer(FS, b, p + 4 * i, LE).intoArray(dst, o + i / L * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = b.getFloat(p + 4 * i);
            }
        }
    }

    private static void widenBf16(WeightMatrix m, int from, int to, float[] dst, int rs, int cs) {
        int in = m.cols();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            int o = (r - from) * rs;
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, o + i / L * cs);
                v.and(0xFFFF0000).reinterpretAsFloats().intoArray(dst, o + (i / L + 1) * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xFFFF) << 16);
            }
        }
    }

    private static void widenF16(WeightMatrix m, int from, int to, float[] dst, int rs, int cs) {
        int in = m.cols();
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            int o = (r - from) * rs;
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = IntVector.fromByteBuffer(IS, b, p + 2 * i, LE);
                v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(HALF_MASK)
                        .reinterpretAsFloats().mul(HALF_SCALE).intoArray(dst, o + i / L * cs);
                v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats().mul(HALF_SCALE)
                        .intoArray(dst, o + (i / L + 1) * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = half(b.getShort(p + 2 * i));
            }
        }
    }

    private static void widenQ80(WeightMatrix m, int from, int to, float[] dst, int rs, int cs) {
        int blocks = m.cols() / WeightFormat.BLOCK;
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            int o = (r - from) * rs;
            for (int k = 0; k < blocks; k++) {
                int q = p + k * 34;
                float d = half(b.getShort(q));
                for (int j = 0; j < WeightFormat.BLOCK; j += L) {
                    ((FloatVector) ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE)
                            .convertShape(VectorOperators.B2F, FS, 0)).mul(d)
                            .intoArray(dst, o + (k * WeightFormat.BLOCK + j) / L * cs);
                }
            }
        }
    }

    private static void widenQ40(WeightMatrix m, int from, int to, float[] dst, int rs, int cs) {
        int blocks = m.cols() / WeightFormat.BLOCK;
        for (int r = from; r < to; r++) {
            ByteBuffer b = m.slab(r);
            int p = m.offset(r);
            int o = (r - from) * rs;
            for (int k = 0; k < blocks; k++) {
                int q = p + k * 18;
                float d = half(b.getShort(q));
                int at = k * WeightFormat.BLOCK;
                for (int j = 0; j < 16; j += L) {
                    IntVector packed = (IntVector) ByteVector.fromByteBuffer(BS, b, q + 2 + j, LE)
                            .convertShape(VectorOperators.B2I, IS, 0);
                    ((FloatVector) packed.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                            .intoArray(dst, o + (at + j) / L * cs);
                    ((FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8)
                            .convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, o + (at + 16 + j) / L * cs);
                }
            }
        }
    }
}
