package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.weights.NativeKernels;

/**
 * Loops on the float exp in the native library ({@code src/main/c/amulet_exp.c}, in the library {@link NativeKernels}
 * loads): the softmax's {@code a[i] = exp(a[i] - shift)} over a row of scores and their sum, SiLU and GELU-tanh, with
 * AVX-512F or AVX2 and FMA (NEON on aarch64), the same float operations as {@link VectorOps#expShiftedJava},
 * {@link VectorOps#siluJava} and {@link VectorOps#geluTanhJava} in the same order, so a value has the same bits with
 * or without the library (NativeExpTest). Several times the Java loops' speed, which is what a long history's prefill
 * needs: its scores grow with the square of the length. Without the library, or on a CPU without AVX2, the Java loops
 * run.
 */
final class NativeExp {

    /** Rows shorter than this stay in Java: the call costs about what a few dozen exponentials do. */
    static final int MIN_LENGTH = 32;

    private static final boolean LINKED = link();

    private NativeExp() {
    }

    private static boolean link() {
        if (!NativeKernels.available()) {
            return false;
        }
        try {
            return variant() > 0;
        } catch (UnsatisfiedLinkError e) {
            // a library built before this file
            return false;
        }
    }

    /** Whether the native exponentials run. */
    static boolean available() {
        return LINKED;
    }

    /** The variant in use: 0 none, 1 AVX2 with FMA (on aarch64: NEON), 2 AVX-512F. */
    static native int variant();

    /** Selects variant {@code v} where the CPU has it (tests); returns the variant in use. */
    static native int selectVariant(int v);

    /** {@code a[off, off + n) = exp(a - shift)}; returns their sum. */
    static native float expShifted(float[] a, int off, int n, float shift);

    /** {@link #activate}'s SiLU. */
    static final int SILU = 0;
    /** {@link #activate}'s GELU-tanh. */
    static final int GELU_TANH = 1;

    /** {@code a[off, off + n)} through {@link #SILU} or {@link #GELU_TANH}, in place. */
    static native void activate(int what, float[] a, int off, int n);

    /**
     * {@code dst[dstOff + i] = act(src[srcOff + i]) * src[mulOff + i]} for {@code i < n}, {@code act} {@link #SILU} or
     * {@link #GELU_TANH}: a gated MLP's activation times its up half, the bits of {@link #activate} followed by the
     * Java product.
     */
    static native void activateTimes(int what, float[] src, int srcOff, int mulOff, float[] dst, int dstOff, int n);

    private static final boolean GATED = LINKED && linkGated();

    private static boolean linkGated() {
        try {
            activateTimes(SILU, new float[1], 0, 0, new float[1], 0, 0);
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * {@link #activateTimes} where it pays ({@value #MIN_LENGTH} values or more, the library loaded); false when the
     * caller's Java loops are to run instead.
     */
    static boolean tryActivateTimes(int what, float[] src, int srcOff, int mulOff, float[] dst, int dstOff, int n) {
        if (n < MIN_LENGTH || !GATED) {
            return false;
        }
        if (srcOff < 0 || mulOff < 0 || dstOff < 0 || (long) Math.max(srcOff, mulOff) + n > src.length
                || (long) dstOff + n > dst.length) {
            throw new IllegalArgumentException("activation of " + n + " values from " + srcOff + " times " + mulOff
                    + " (of " + src.length + ") into " + dstOff + " (of " + dst.length + ")");
        }
        activateTimes(what, src, srcOff, mulOff, dst, dstOff, n);
        return true;
    }

    /**
     * {@link #activate} where it pays ({@value #MIN_LENGTH} values or more, the library loaded); false when the caller's
     * Java loop is to run instead.
     */
    static boolean tryActivate(int what, float[] a, int off, int n) {
        if (n < MIN_LENGTH || !LINKED) {
            return false;
        }
        activate(what, a, off, n);
        return true;
    }
}
