package io.github.amulet4j.transformer.weights;

/**
 * The native kernels for 16-bit float weights (src/main/c/amulet_float16.c, in the library {@link NativeKernels}
 * loads): F16 and BF16 rows times any number of float32 activation columns (one or two in a decode step, each
 * weight read once for both; more in tiles), each column's result bit for bit the one it gets alone.
 * F16 is widened with F16C's {@code vcvtph2ps}, BF16 with a 16-bit shift (AVX2, AVX-512F) or, where the CPU has
 * AVX-512 BF16, multiplied with {@code vdpbf16ps} on activations rounded to bfloat16 as llama.cpp rounds them
 * ({@link #bf16Dot()}; the rounding error: {@link QuantizedInput}). The variant is chosen at run time, apart from
 * {@link NativeKernels}' own.
 */
final class NativeFloat16Kernels {

    /** Variants, as amulet_float16.c numbers them. */
    static final int SCALAR = 0;
    static final int AVX2 = 1;
    static final int AVX512 = 2;
    static final int AVX512_BF16 = 3;
    static final int VARIANTS = 4;

    private static final boolean LINKED = NativeKernels.links(() -> variant());

    private NativeFloat16Kernels() {
    }

    /** Whether the F16/BF16 kernels can run. */
    static boolean available() {
        return LINKED;
    }

    /** The variant in use, by name ({@code none} without the library). */
    static String variantName() {
        return LINKED ? variantName(variant()) : "none";
    }

    /** Whether BF16 products use {@code vdpbf16ps} on activations rounded to bfloat16 (the variant in use). */
    static boolean bf16Dot() {
        return LINKED && variant() == AVX512_BF16;
    }

    static native int supportedVariants();

    static native int variant();

    /** Selects variant {@code v} where the CPU has it (tests); returns the variant in use. */
    static native int selectVariant(int v);

    static native String variantName(int v);

    /** {@code x[0, values)} rounded to bfloat16 (to nearest, ties to even) into {@code out}. */
    static native void toBf16(float[] x, int values, short[] out);

    static native void product(boolean bf16, byte[] w, int wOff, int rows, int cols, float[] x, short[] xb, int xOff,
                               int xStride, int n, float[] y, int yOff, int yStride, boolean add);

    /** As {@link #product}, on weights off the heap: {@code w} is the address of the run's first row. */
    static native void productAt(boolean bf16, long w, int rows, int cols, float[] x, short[] xb, int xOff, int xStride,
                                 int n, float[] y, int yOff, int yStride, boolean add);
}
