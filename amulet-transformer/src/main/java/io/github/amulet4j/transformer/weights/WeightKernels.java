package io.github.amulet4j.transformer.weights;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The Vector API kernels behind {@link WeightMatrix#multiply}: weights read from their heap arrays
 * ({@link WeightPanel}) in their stored format and widened to float32 in registers; activations stay float32.
 * A matrix split into column panels is multiplied panel by panel, each adding its share to {@code y}.
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
    /**
     * Bytes of one full vector, reinterpreted as float or int lanes (little-endian, as x86 and AArch64 are): loads
     * from {@code byte[]} that every JDK since 16 has ({@code FloatVector.fromByteArray} left the API in JDK 20).
     */
    private static final VectorSpecies<Byte> BF = VectorSpecies.of(byte.class, FS.vectorShape());
    /** Halves that widen to one int vector. */
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, LE);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, LE);
    /** Rows widened at once for many columns: 16 rows of 4,864 floats are 311 KB, within the L2 cache. */
    static final int TILE_ROWS = 16;
    /** Columns from which {@link PanelKernel} is used (fewer: {@link FloatTile}, whose tiles are three columns). */
    static final int PANEL_COLUMNS = 16;
    /** A half's bits moved into a float's (sign kept, exponent rebased by 2^-112). */
    private static final int HALF_MASK = 0x8FFFE000;
    private static final float HALF_SCALE = 0x1p112f;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PAIRS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SCALES = ThreadLocal.withInitial(() -> new float[0]);
    /** A block of the many-column kernel's results, {@code [rows][panel columns]}. */
    private static final ThreadLocal<float[]> OUT = ThreadLocal.withInitial(() -> new float[0]);
    /** A tile's rows widened row-major, before {@link PanelKernel#layOut}. */
    private static final ThreadLocal<float[]> ROWS_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

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
        float[] xs = inKernelOrder(m, x, n);
        WeightPanel[] panels = m.panels();
        for (int j = 0; j < panels.length; j++) {
            // panel by panel, all rows of the range each time: the panel's slice of the activations stays in L1
            onePanel(panels[j], xs, n, m.cols(), y, m.rows(), from, to, j > 0);
        }
    }

    /**
     * One panel's share of {@code y} for rows {@code [from, to)}: stored ({@code add} false, the first panel) or
     * added. One method per format and column count, each with its row loop inside: C2 then compiles each on its own,
     * and no vector value merges at a branch (a conditional update of an accumulator made C2 box vectors here, 3-10x
     * slower; {@code add} only picks between two scalar stores).
     */
    private static void onePanel(WeightPanel p, float[] x, int n, int in, float[] y, int rows, int from, int to,
                                 boolean add) {
        boolean two = n == 2;
        switch (p.format) {
            case F32 -> {
                if (two) {
                    f32x2(p, x, in, y, rows, from, to, add);
                } else {
                    f32x1(p, x, y, from, to, add);
                }
            }
            case BF16 -> {
                if (two) {
                    bf16x2(p, x, in, y, rows, from, to, add);
                } else {
                    bf16x1(p, x, y, from, to, add);
                }
            }
            case F16 -> {
                if (two) {
                    f16x2(p, x, in, y, rows, from, to, add);
                } else {
                    f16x1(p, x, y, from, to, add);
                }
            }
            case Q8_0 -> {
                if (two) {
                    q80x2(p, x, in, y, rows, from, to, add);
                } else {
                    q80x1(p, x, y, from, to, add);
                }
            }
            case Q4_0 -> {
                if (two) {
                    q40x2(p, x, in, y, rows, from, to, add);
                } else {
                    q40x1(p, x, y, from, to, add);
                }
            }
            case Q4_K, Q5_K, Q6_K -> KQuantJava.multiply(p, x, n, in, y, rows, from, to, add);
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

    private static void f32x1(WeightPanel p, float[] x, float[] y, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = FS.loopBound(len);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += L) {
                a0 = ByteVector.fromArray(BF, b, o + 4 * i).reinterpretAsFloats().fma(FloatVector.fromArray(FS, x, c0 + i), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                s += (float) FLOAT.get(b, o + 4 * i) * x[c0 + i];
            }
            y[r] = add ? y[r] + s : s;
        }
    }

    private static void f32x2(WeightPanel p, float[] x, int in, float[] y, int rows, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = FS.loopBound(len);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector w = ByteVector.fromArray(BF, b, o + 4 * i).reinterpretAsFloats();
                a0 = w.fma(FloatVector.fromArray(FS, x, c0 + i), a0);
                a1 = w.fma(FloatVector.fromArray(FS, x, in + c0 + i), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                float w = (float) FLOAT.get(b, o + 4 * i);
                s0 += w * x[c0 + i];
                s1 += w * x[in + c0 + i];
            }
            store(y, rows, r, s0, s1, add);
        }
    }

    /** {@code y[r] (+)= s0} and {@code y[rows + r] (+)= s1}. */
    private static void store(float[] y, int rows, int r, float s0, float s1, boolean add) {
        if (add) {
            y[r] += s0;
            y[rows + r] += s1;
        } else {
            y[r] = s0;
            y[rows + r] = s1;
        }
    }

    private static void bf16x1(WeightPanel p, float[] x, float[] y, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = len - len % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, o + 2 * i).reinterpretAsInts();
                a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(FS, x, c0 + i), a0);
                a0 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(FS, x, c0 + i + L), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                s += bf16(b, o + 2 * i) * x[c0 + i];
            }
            y[r] = add ? y[r] + s : s;
        }
    }

    private static void bf16x2(WeightPanel p, float[] x, int in, float[] y, int rows, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = len - len % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, o + 2 * i).reinterpretAsInts();
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector odd = v.and(0xFFFF0000).reinterpretAsFloats();
                int xi = c0 + i;
                a0 = even.fma(FloatVector.fromArray(FS, x, xi), a0);
                a1 = even.fma(FloatVector.fromArray(FS, x, in + xi), a1);
                a0 = odd.fma(FloatVector.fromArray(FS, x, xi + L), a0);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + xi + L), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                float w = bf16(b, o + 2 * i);
                s0 += w * x[c0 + i];
                s1 += w * x[in + c0 + i];
            }
            store(y, rows, r, s0, s1, add);
        }
    }

    private static void f16x1(WeightPanel p, float[] x, float[] y, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = len - len % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, o + 2 * i).reinterpretAsInts();
                // low half moved to the top, then sign kept and exponent/mantissa shifted into a float's places;
                // the rebasing factor on every weight, as the many-column kernels widen them (the same sums' bits)
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                        .and(HALF_MASK).reinterpretAsFloats().mul(HALF_SCALE);
                FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats()
                        .mul(HALF_SCALE);
                a0 = even.fma(FloatVector.fromArray(FS, x, c0 + i), a0);
                a0 = odd.fma(FloatVector.fromArray(FS, x, c0 + i + L), a0);
            }
            float s = a0.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                s += half((short) SHORT.get(b, o + 2 * i)) * x[c0 + i];
            }
            y[r] = add ? y[r] + s : s;
        }
    }

    private static void f16x2(WeightPanel p, float[] x, int in, float[] y, int rows, int from, int to, boolean add) {
        int c0 = p.first;
        int len = p.cols;
        int bound = len - len % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, o + 2 * i).reinterpretAsInts();
                // the rebasing factor on every weight, as the many-column kernels widen them (the same sums' bits)
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                        .and(HALF_MASK).reinterpretAsFloats().mul(HALF_SCALE);
                FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats()
                        .mul(HALF_SCALE);
                int xi = c0 + i;
                a0 = even.fma(FloatVector.fromArray(FS, x, xi), a0);
                a1 = even.fma(FloatVector.fromArray(FS, x, in + xi), a1);
                a0 = odd.fma(FloatVector.fromArray(FS, x, xi + L), a0);
                a1 = odd.fma(FloatVector.fromArray(FS, x, in + xi + L), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            for (; i < len; i++) {
                float w = half((short) SHORT.get(b, o + 2 * i));
                s0 += w * x[c0 + i];
                s1 += w * x[in + c0 + i];
            }
            store(y, rows, r, s0, s1, add);
        }
    }

    /**
     * One column, Q8_0: a row's scales decoded once; per block, its 32 quants loaded {@code L} at a time and widened
     * to float32 ({@code B2F}), multiplied with the activations, the block's lane sums scaled into one of two
     * accumulators (even and odd blocks, so that one block's sum does not wait for the previous one).
     */
    private static void q80x1(WeightPanel p, float[] x, float[] y, int from, int to, boolean add) {
        int c0 = p.first;
        int blocks = p.blocks;
        float[] d = blockScales(blocks);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            scales(p.scales(r), p.scaleOffset(r), blocks, d);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int k = 0;
            for (; k + 2 <= blocks; k += 2) {
                int q = o + k * 32;
                int xi = c0 + k * 32;
                FloatVector s0 = q80Block(b, q, x, xi);
                FloatVector s1 = q80Block(b, q + 32, x, xi + 32);
                a0 = s0.fma(FloatVector.broadcast(FS, d[k]), a0);
                a1 = s1.fma(FloatVector.broadcast(FS, d[k + 1]), a1);
            }
            if (k < blocks) {
                a0 = q80Block(b, o + k * 32, x, c0 + k * 32).fma(FloatVector.broadcast(FS, d[k]), a0);
            }
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            y[r] = add ? y[r] + s : s;
        }
    }

    /** The unscaled lane sums of one Q8_0 block's quants at {@code b[q...]} times {@code x[xi...xi + 32)}. */
    private static FloatVector q80Block(byte[] b, int q, float[] x, int xi) {
        FloatVector s = ((FloatVector) ByteVector.fromArray(BS, b, q).convertShape(VectorOperators.B2F, FS, 0))
                .mul(FloatVector.fromArray(FS, x, xi));
        for (int j = L; j < WeightFormat.BLOCK; j += L) {
            s = ((FloatVector) ByteVector.fromArray(BS, b, q + j).convertShape(VectorOperators.B2F, FS, 0))
                    .fma(FloatVector.fromArray(FS, x, xi + j), s);
        }
        return s;
    }

    /**
     * Two columns, Q8_0: each block's quants widened once for both columns; even and odd blocks into separate
     * accumulators (one chain of multiply-adds per column bound the loop by their latency: 1.1-1.3x).
     */
    private static void q80x2(WeightPanel p, float[] x, int in, float[] y, int rows, int from, int to, boolean add) {
        int c0 = p.first;
        int blocks = p.blocks;
        float[] d = blockScales(blocks);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            scales(p.scales(r), p.scaleOffset(r), blocks, d);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            FloatVector e0 = FloatVector.zero(FS);
            FloatVector e1 = FloatVector.zero(FS);
            int k = 0;
            for (; k + 2 <= blocks; k += 2) {
                int q = o + k * 32;
                int xi = c0 + k * 32;
                FloatVector dv = FloatVector.broadcast(FS, d[k]);
                a0 = q80Block(b, q, x, xi).fma(dv, a0);
                a1 = q80Block(b, q, x, in + xi).fma(dv, a1);
                FloatVector ev = FloatVector.broadcast(FS, d[k + 1]);
                e0 = q80Block(b, q + 32, x, xi + 32).fma(ev, e0);
                e1 = q80Block(b, q + 32, x, in + xi + 32).fma(ev, e1);
            }
            if (k < blocks) {
                int q = o + k * 32;
                int xi = c0 + k * 32;
                FloatVector dv = FloatVector.broadcast(FS, d[k]);
                a0 = q80Block(b, q, x, xi).fma(dv, a0);
                a1 = q80Block(b, q, x, in + xi).fma(dv, a1);
            }
            store(y, rows, r, a0.add(e0).reduceLanes(VectorOperators.ADD), a1.add(e1).reduceLanes(VectorOperators.ADD),
                    add);
        }
    }

    /**
     * One column, Q4_0: per block, its 16 bytes of nibbles loaded {@code L} at a time and widened to ints; the low
     * nibbles are weights 0-15, the high ones 16-31 (ggml's packing), each less 8, converted to float32.
     */
    private static void q40x1(WeightPanel p, float[] x, float[] y, int from, int to, boolean add) {
        int c0 = p.first;
        int blocks = p.blocks;
        float[] d = blockScales(blocks);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            scales(p.scales(r), p.scaleOffset(r), blocks, d);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            int k = 0;
            for (; k + 2 <= blocks; k += 2) {
                int q = o + k * 16;
                int xi = c0 + k * 32;
                FloatVector s0 = q40Block(b, q, x, xi);
                FloatVector s1 = q40Block(b, q + 16, x, xi + 32);
                a0 = s0.fma(FloatVector.broadcast(FS, d[k]), a0);
                a1 = s1.fma(FloatVector.broadcast(FS, d[k + 1]), a1);
            }
            if (k < blocks) {
                a0 = q40Block(b, o + k * 16, x, c0 + k * 32).fma(FloatVector.broadcast(FS, d[k]), a0);
            }
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            y[r] = add ? y[r] + s : s;
        }
    }

    /** The unscaled lane sums of one Q4_0 block's nibbles at {@code b[q...q + 16)} times {@code x[xi...xi + 32)}. */
    private static FloatVector q40Block(byte[] b, int q, float[] x, int xi) {
        FloatVector s = FloatVector.zero(FS);
        for (int j = 0; j < 16; j += L) {
            IntVector v = (IntVector) ByteVector.fromArray(BS, b, q + j).convertShape(VectorOperators.B2I, IS, 0);
            s = ((FloatVector) v.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(FS, x, xi + j), s);
            s = ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(FS, x, xi + 16 + j), s);
        }
        return s;
    }

    private static void q40x2(WeightPanel p, float[] x, int in, float[] y, int rows, int from, int to, boolean add) {
        int c0 = p.first;
        int blocks = p.blocks;
        float[] d = blockScales(blocks);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int o = p.offset(r);
            scales(p.scales(r), p.scaleOffset(r), blocks, d);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            for (int k = 0; k < blocks; k++) {
                int q = o + k * 16;
                int xi = c0 + k * 32;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    IntVector v = (IntVector) ByteVector.fromArray(BS, b, q + j)
                            .convertShape(VectorOperators.B2I, IS, 0);
                    FloatVector lo = (FloatVector) v.and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
                    FloatVector hi = (FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8)
                            .convert(VectorOperators.I2F, 0);
                    s0 = lo.fma(FloatVector.fromArray(FS, x, xi + j), s0);
                    s1 = lo.fma(FloatVector.fromArray(FS, x, in + xi + j), s1);
                    s0 = hi.fma(FloatVector.fromArray(FS, x, xi + 16 + j), s0);
                    s1 = hi.fma(FloatVector.fromArray(FS, x, in + xi + 16 + j), s1);
                }
                FloatVector dv = FloatVector.broadcast(FS, d[k]);
                a0 = s0.fma(dv, a0);
                a1 = s1.fma(dv, a1);
            }
            store(y, rows, r, a0.reduceLanes(VectorOperators.ADD), a1.reduceLanes(VectorOperators.ADD), add);
        }
    }

    /** A per-thread array for a row's block scales, rounded up to whole vectors ({@link #scales}). */
    private static float[] blockScales(int blocks) {
        float[] d = SCALES.get();
        if (d.length < blocks + L) {
            d = new float[blocks + L];
            SCALES.set(d);
        }
        return d;
    }

    /**
     * {@code n} float16 scales from {@code s[off...]} as float32 into {@code d}, {@code L} at a time, the last vector
     * reading past the row into the next one's scales or the slab's padding ({@link WeightPanel#SCALE_PAD}) and
     * writing past {@code d[n - 1]} (a scalar tail for rows of 28 blocks cost a fifth of a Q8_0 one-column product).
     */
    private static void scales(short[] s, int off, int n, float[] d) {
        for (int k = 0; k < n; k += L) {
            ((IntVector) ShortVector.fromArray(SS, s, off + k).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(HALF_MASK)
                    .reinterpretAsFloats().mul(HALF_SCALE).intoArray(d, k);
        }
    }

    /** A bfloat16's bits at {@code b[at]} (little-endian) as float32. */
    private static float bf16(byte[] b, int at) {
        return Float.intBitsToFloat(((short) SHORT.get(b, at) & 0xFFFF) << 16);
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
        } else {
            floatTiles(m, x, n, y, from, to);
        }
    }

    /** Each tile of {@link #TILE_ROWS} rows widened into float32 scratch, then multiplied by {@link FloatTile}. */
    private static void floatTiles(WeightMatrix m, float[] x, int n, float[] y, int from, int to) {
        int in = m.cols();
        float[] xs = inKernelOrder(m, x, n);
        float[] w = scratch(TILE_ROWS * in);
        int[][] seg = segments(m);
        for (int tile = from; tile < to; tile += TILE_ROWS) {
            int end = Math.min(to, tile + TILE_ROWS);
            widen(m, tile, end, w);
            FloatTile.multiply(w, tile, end, in, xs, n, y, m.rows(), seg[0], seg[1], seg[2]);
        }
    }

    /** The activations in the order the kernels read them: pair-split for BF16/F16 ({@link #pairSplit}), else as is. */
    private static float[] inKernelOrder(WeightMatrix m, float[] x, int n) {
        WeightFormat f = m.format();
        return f == WeightFormat.BF16 || f == WeightFormat.F16 ? pairSplit(x, n, m.cols()) : x;
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
        int[][] seg = segments(m);
        int[] first = seg[0];
        int[] len = seg[1];
        int[] bound = seg[2];
        int[] order = PanelKernel.order(in, first, len, bound);
        float[] packed = PanelKernel.pack(inKernelOrder(m, x, n), n, in, order);
        int panels = PanelKernel.panels(n);
        // one vector more than the panels' columns: a power-of-two stride would map a column's rows to few cache sets
        int stride = panels * PanelKernel.WIDTH + FS.length();
        int tileRows = PanelKernel.ROWS;
        int blockRows = Math.max(1, Math.min(8, (32 * 1024 / stride) / tileRows)) * tileRows;
        float[] w = scratch(PanelKernel.tileSize(in));
        float[] widened = ROWS_SCRATCH.get();
        if (widened.length < tileRows * in) {
            widened = new float[tileRows * in];
            ROWS_SCRATCH.set(widened);
        }
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
                widen(m, tile, end, widened, in, L);
                PanelKernel.layOut(widened, in, first, len, bound, w);
                PanelKernel.multiply(w, in, first, len, bound, packed, panels, out, (tile - block) * stride, stride);
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

    /**
     * The weight panels of {@code m} as the many-column kernels sum them: their first inputs, lengths and
     * {@link #vectorBound}s.
     */
    static int[][] segments(WeightMatrix m) {
        WeightPanel[] panels = m.panels();
        int[][] seg = new int[3][panels.length];
        for (int j = 0; j < panels.length; j++) {
            seg[0][j] = panels[j].first;
            seg[1][j] = panels[j].cols;
            seg[2][j] = vectorBound(m.format(), panels[j].cols);
        }
        return seg;
    }

    /**
     * Where the one- and two-column kernels of {@code format} end their vector loop over a weight panel of
     * {@code len} inputs (the rest is their scalar tail): a multiple of {@code L} for F32, of {@code 2L} for BF16 and
     * F16 (a lane holds two weights), the whole panel for the block formats (whole blocks of 32).
     */
    static int vectorBound(WeightFormat format, int len) {
        return switch (format) {
            case F32 -> len - len % L;
            case BF16, F16 -> len - len % (2 * L);
            default -> len;
        };
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
        } else {
            floatTiles(m, x, n, y, from, to);
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
        for (WeightPanel p : m.panels()) {
            // a panel starts at a multiple of 2L inputs: its chunks are whole chunks of the row
            int base = p.first / L * chunkStride;
            switch (m.format()) {
                case F32 -> widenF32(p, from, to, dst, base, rowStride, chunkStride);
                case BF16 -> widenBf16(p, from, to, dst, base, rowStride, chunkStride);
                case F16 -> widenF16(p, from, to, dst, base, rowStride, chunkStride);
                case Q8_0 -> widenQ80(p, from, to, dst, base, rowStride, chunkStride);
                case Q4_0 -> widenQ40(p, from, to, dst, base, rowStride, chunkStride);
                case Q4_K, Q5_K, Q6_K -> KQuantJava.widen(p, from, to, dst, base, rowStride, chunkStride);
            }
        }
    }

    /** Where {@link #widen} puts weight {@code i} of tile row {@code r}. */
    static int at(int r, int i, int rowStride, int chunkStride) {
        return (i / L) * chunkStride + r * rowStride + i % L;
    }

    private static void widenF32(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int in = p.cols;
        int bound = FS.loopBound(in);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int q = p.offset(r);
            int o = base + (r - from) * rs;
            int i = 0;
            for (; i < bound; i += L) {
                ByteVector.fromArray(BF, b, q + 4 * i).reinterpretAsFloats().intoArray(dst, o + i / L * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = (float) FLOAT.get(b, q + 4 * i);
            }
        }
    }

    private static void widenBf16(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int in = p.cols;
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int q = p.offset(r);
            int o = base + (r - from) * rs;
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, q + 2 * i).reinterpretAsInts();
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, o + i / L * cs);
                v.and(0xFFFF0000).reinterpretAsFloats().intoArray(dst, o + (i / L + 1) * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = bf16(b, q + 2 * i);
            }
        }
    }

    private static void widenF16(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int in = p.cols;
        int bound = in - in % (2 * L);
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            int q = p.offset(r);
            int o = base + (r - from) * rs;
            int i = 0;
            for (; i < bound; i += 2 * L) {
                IntVector v = ByteVector.fromArray(BF, b, q + 2 * i).reinterpretAsInts();
                v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(HALF_MASK)
                        .reinterpretAsFloats().mul(HALF_SCALE).intoArray(dst, o + i / L * cs);
                v.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats().mul(HALF_SCALE)
                        .intoArray(dst, o + (i / L + 1) * cs);
            }
            for (; i < in; i++) {
                dst[o + i / L * cs + i % L] = half((short) SHORT.get(b, q + 2 * i));
            }
        }
    }

    private static void widenQ80(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int blocks = p.blocks;
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            short[] s = p.scales(r);
            int so = p.scaleOffset(r);
            int q0 = p.offset(r);
            int o = base + (r - from) * rs;
            for (int k = 0; k < blocks; k++) {
                int q = q0 + k * 32;
                float d = half(s[so + k]);
                for (int j = 0; j < WeightFormat.BLOCK; j += L) {
                    ((FloatVector) ByteVector.fromArray(BS, b, q + j).convertShape(VectorOperators.B2F, FS, 0))
                            .mul(d).intoArray(dst, o + (k * WeightFormat.BLOCK + j) / L * cs);
                }
            }
        }
    }

    private static void widenQ40(WeightPanel p, int from, int to, float[] dst, int base, int rs, int cs) {
        int blocks = p.blocks;
        for (int r = from; r < to; r++) {
            byte[] b = p.data(r);
            short[] s = p.scales(r);
            int so = p.scaleOffset(r);
            int q0 = p.offset(r);
            int o = base + (r - from) * rs;
            for (int k = 0; k < blocks; k++) {
                int q = q0 + k * 16;
                float d = half(s[so + k]);
                int at = k * WeightFormat.BLOCK;
                for (int j = 0; j < 16; j += L) {
                    IntVector packed = (IntVector) ByteVector.fromArray(BS, b, q + j)
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
