package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.weights.NativeKernels;

/**
 * Loops on the float exp in the native library ({@code src/main/c/amulet_exp.c}, in the library {@link NativeKernels}
 * loads): the softmax's {@code a[i] = exp(a[i] - shift)} over a row of scores and their sum, SiLU and GELU-tanh, with
 * AVX-512F or AVX2 and FMA, the same float operations as {@link VectorOps#expShiftedJava},
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

    /** The variant in use: 0 none, 1 AVX2 with FMA, 2 AVX-512F. */
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
