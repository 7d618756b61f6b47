package io.github.amulet4j.transformer.weights;

/**
 * The native Q5_0 kernels (src/main/c/amulet_q50.c, in the library {@link NativeKernels} loads): ggml's
 * {@code block_q5_0} rows, as a GGUF file stores them, times activations quantized per block of 32 as for Q8_0/Q4_0
 * ({@link QuantizedInput}), any number of columns (pairs over blocks of rows). Each result has the same bits in every
 * variant (scalar C, AVX2, AVX-VNNI, AVX-512 VNNI; NEON with and without sdot on aarch64; numbered as
 * {@link NativeKernels} numbers its variants) and
 * whatever the columns beside it: per block the exact integer sums of every four products, each times the two scales
 * fused-added into one of eight float32 sums, added up in a fixed order (amulet_q50.c). There is no Java kernel
 * for Q5_0: with the Java kernels a Q5_0 tensor is converted to Q8_0.
 */
final class Q50Kernels {

    private static final boolean LINKED = NativeKernels.links(() -> variant());

    private Q50Kernels() {
    }

    /** Whether the Q5_0 kernels can run. */
    static boolean available() {
        return LINKED;
    }

    /**
     * Whether a vector variant runs them (AVX2 or later, NEON): only then is a checkpoint's Q5_0 held as stored
     * ({@link WeightMatrix.Storage#keepsStored}); with the scalar C variant alone (x86 without AVX2) it is held as
     * Q8_0.
     */
    static boolean vectorized() {
        return LINKED && (supportedVariants() & ~1) != 0;
    }

    /** The variant in use, by name ({@code none} without the library). */
    static String variantName() {
        return LINKED ? variantName(variant()) : "none";
    }

    static native int supportedVariants();

    static native int variant();

    /** Selects variant {@code v} where the CPU has it (tests); returns the variant in use. */
    static native int selectVariant(int v);

    static native String variantName(int v);

    static native void product(byte[] w, int wOff, int rows, int blocks, byte[] xq, float[] xd, int colBlocks, int n,
                               float[] y, int yOff, int yStride, boolean add);

    /** As {@link #product}, on weights off the heap: {@code w} is the address of the run's first row. */
    static native void productAt(long w, int rows, int blocks, byte[] xq, float[] xd, int colBlocks, int n, float[] y,
                                 int yOff, int yStride, boolean add);
}
