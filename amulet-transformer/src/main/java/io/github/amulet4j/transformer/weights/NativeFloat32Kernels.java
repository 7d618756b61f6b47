package io.github.amulet4j.transformer.weights;

/**
 * The native kernels for float32 weights (src/main/c/amulet_float32.c, in the library {@link NativeKernels} loads):
 * F32 rows times any number of float32 activation columns, two columns sharing each weight load, each column's
 * result bit for bit the one it gets alone. They let an F32 checkpoint's matrices live off the Java heap like the
 * other formats' ({@link WeightMatrix.Storage#NATIVE}). Variants: scalar C, AVX2 with FMA, AVX-512F, chosen at run
 * time apart from {@link NativeKernels}' own.
 */
final class NativeFloat32Kernels {

    /** Variants, as amulet_float32.c numbers them. */
    static final int SCALAR = 0;
    static final int AVX2 = 1;
    static final int AVX512 = 2;
    static final int VARIANTS = 3;

    private static final boolean LINKED = NativeKernels.links(() -> variant());

    private NativeFloat32Kernels() {
    }

    /** Whether the F32 kernels can run. */
    static boolean available() {
        return LINKED;
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

    /**
     * {@code rows} rows of {@code cols} float32 weights (the heap array {@code w} from byte {@code wOff}) times
     * {@code n} columns of {@code x} (column {@code c} from {@code x[xOff + c * xStride]}) into
     * {@code y[yOff + c * yStride + r]}, stored or added to.
     */
    static native void product(byte[] w, int wOff, int rows, int cols, float[] x, int xOff, int xStride, int n,
                               float[] y, int yOff, int yStride, boolean add);

    /** As {@link #product}, on weights off the heap: {@code w} is the address of the run's first row. */
    static native void productAt(long w, int rows, int cols, float[] x, int xOff, int xStride, int n, float[] y,
                                 int yOff, int yStride, boolean add);
}
