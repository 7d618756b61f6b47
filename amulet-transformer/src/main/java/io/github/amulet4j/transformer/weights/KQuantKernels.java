package io.github.amulet4j.transformer.weights;

/**
 * The native K-quant kernels (src/main/c/amulet_kquants.c, in the same library as {@link NativeKernels}, loaded by
 * it): Q4_K, Q5_K and Q6_K weights in ggml's blocks times activations quantized per block of 256 to 8 bits with the
 * sums of every 16 quants ({@link QuantizedInput}, as llama.cpp's Q8_K), any number of columns (pairs over blocks
 * of rows), each column's result bit for bit the one it gets alone. The library picks the
 * widest variant this CPU has (scalar, AVX2, AVX-VNNI, AVX-512 VNNI) at run time, numbered as {@link NativeKernels}
 * numbers its variants. Available exactly when {@link NativeKernels#available()} is.
 */
public final class KQuantKernels {

    private KQuantKernels() {
    }

    /** Whether the library is loaded (by {@link NativeKernels}). */
    public static boolean available() {
        return NativeKernels.available();
    }

    /** The K-quant formats these kernels multiply. */
    public static boolean supports(WeightFormat format) {
        return format.superBlocks();
    }

    /** The variant in use, by name ({@code none} without the library). */
    public static String variantName() {
        return available() ? variantName(variant()) : "none";
    }

    /** The format's number in amulet_kquants.c. */
    static int code(WeightFormat format) {
        return switch (format) {
            case Q4_K -> 0;
            case Q5_K -> 1;
            case Q6_K -> 2;
            default -> throw new IllegalArgumentException(format + " is not a K-quant");
        };
    }

    static native int supportedVariants();

    static native int variant();

    /** Selects variant {@code v} where the CPU has it (tests, benchmarks); returns the variant in use. */
    static native int selectVariant(int v);

    static native String variantName(int v);

    static native void quantize(float[] x, int values, byte[] q, float[] d, short[] partSums);

    static native void product(int format, byte[] w, int wOff, int rows, int blocks, byte[] xq, float[] xd,
                               short[] xb, int colBlocks, int n, float[] y, int yOff, int yStride, boolean add);

    /** As {@link #product}, on weights off the heap: {@code w} is the address of the run's first row. */
    static native void productAt(int format, long w, int rows, int blocks, byte[] xq, float[] xd, short[] xb,
                                 int colBlocks, int n, float[] y, int yOff, int yStride, boolean add);
}
