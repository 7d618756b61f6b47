package io.github.amulet4j.transformer.weights;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native dot-product kernels (src/main/c/amulet_kernels.c, issue 26): Q8_0 and Q4_0 weights times activations
 * quantized per block of 32 to 8 bits ({@link QuantizedInput}), any number of columns (one or two in a decode step,
 * each weight read once for both; more in tiles, each column's result bit for bit the one it gets alone), with the
 * byte dot-product instructions the Vector API lacks ({@code vpdpbusd} with AVX-512 VNNI or AVX-VNNI, {@code vpmaddubsw} with AVX2).
 * The library is built by the Maven build with the system C compiler into the jar under
 * {@code native/linux-x86_64/} (or {@code native/linux-aarch64/} when built on Linux aarch64: NEON with and without
 * {@code sdot}); at first use the running platform's is copied to a temporary file and loaded with
 * {@link System#load}. The library picks the widest variant this CPU has at run time ({@link #variantName()}).
 *
 * <p>Where the library is absent (no compiler at build time, another platform) or fails to load, {@link #available()}
 * is false and {@link #unavailableReason()} says why: the Java kernels run instead. JNI, not FFM: it works on JDK 17.
 * The arrays are pinned for a call ({@code GetPrimitiveArrayCritical}), never copied.
 */
public final class NativeKernels {

    private static final Logger LOG = LoggerFactory.getLogger(NativeKernels.class);

    /**
     * Variants, as amulet_kernels.c numbers them on x86-64; on aarch64 1 is NEON (widening multiplies) and 2 NEON with
     * {@code sdot} (ARMv8.2 dotprod), 3 none.
     */
    static final int SCALAR = 0;
    static final int AVX2 = 1;
    static final int AVX_VNNI = 2;
    static final int AVX512_VNNI = 3;
    static final int VARIANTS = 4;

    /** Set to {@code true} to never load the library (a JVM that must run the Java kernels). */
    public static final String DISABLE_PROPERTY = "amulet.native.disable";

    private static final String REASON;

    static {
        REASON = load();
    }

    private NativeKernels() {
    }

    /** The platform's folder in the jar, or null where no library is built for it. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            return "linux-x86_64";
        }
        if (os.startsWith("linux") && (arch.equals("aarch64") || arch.equals("arm64"))) {
            return "linux-aarch64";
        }
        return null;
    }

    /** The library's resource name for this platform. */
    static String resource() {
        String p = platform();
        return p == null ? null : "/native/" + p + "/libamulet_kernels.so";
    }

    /** Loads the library: null when loaded, else why not. */
    private static String load() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return "disabled by -D" + DISABLE_PROPERTY + "=true";
        }
        String resource = resource();
        if (resource == null) {
            return "no native library is built for " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch") + " (linux-x86_64 and linux-aarch64 only)";
        }
        try (InputStream in = NativeKernels.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "the jar has no " + resource + " (built without a C compiler: install gcc or clang and "
                        + "rebuild)";
            }
            Path file = Files.createTempFile("amulet_kernels", ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toAbsolutePath().toString());
            } finally {
                // the loaded library stays mapped; the file is not needed any more (Linux)
                Files.deleteIfExists(file);
            }
            int v = variant();
            LOG.debug("native kernels loaded from {}: variant {}", resource, variantName(v));
            return null;
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            LOG.warn("native kernels could not be loaded from {}: {}", resource, e.toString());
            return "loading " + resource + " failed: " + e;
        }
    }

    /**
     * Whether the library is loaded and has a kernel family, which {@code probe} calls (a library built before that
     * family has not: the call fails to link): for {@link NativeFloat16Kernels} and {@link NativeFloat32Kernels}.
     */
    static boolean links(Runnable probe) {
        if (!available()) {
            return false;
        }
        try {
            probe.run();
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Whether the library is loaded. */
    public static boolean available() {
        return REASON == null;
    }

    /** Why the library is not loaded, or null when it is. */
    public static String unavailableReason() {
        return REASON;
    }

    /**
     * Whether the native kernels should beat the Java ones on this CPU: loaded, with a SIMD variant (AVX2 or better).
     */
    public static boolean accelerated() {
        return available() && variant() != SCALAR;
    }

    /** The variant in use (its name: {@link #variantName()}). */
    public static String variantName() {
        return available() ? variantName(variant()) : "none";
    }

    /**
     * The format kinds the native kernels of this library multiply: Q8_0 and Q4_0 (these kernels), F16 and BF16
     * ({@link NativeFloat16Kernels}, where linked), F32 ({@link NativeFloat32Kernels}, where linked), Q4_K, Q5_K and
     * Q6_K ({@link KQuantKernels}), Q5_0 ({@link Q50Kernels}, where linked).
     */
    public static boolean supports(WeightFormat format) {
        return format == WeightFormat.Q8_0 || format == WeightFormat.Q4_0 || KQuantKernels.supports(format)
                || format == WeightFormat.Q5_0 && Q50Kernels.available()
                || (format == WeightFormat.F16 || format == WeightFormat.BF16) && NativeFloat16Kernels.available()
                || format == WeightFormat.F32 && NativeFloat32Kernels.available();
    }

    /** The variant that multiplies {@code format}, by name (each kernel family picks its own), e.g. {@code avx512-vnni}. */
    public static String variantName(WeightFormat format) {
        if (format == WeightFormat.F16 || format == WeightFormat.BF16) {
            return NativeFloat16Kernels.variantName();
        }
        if (format == WeightFormat.F32) {
            return NativeFloat32Kernels.variantName();
        }
        if (format == WeightFormat.Q5_0) {
            return Q50Kernels.variantName();
        }
        return format.superBlocks() ? KQuantKernels.variantName() : variantName();
    }

    static native int supportedVariants();

    static native int variant();

    /** Selects variant {@code v} where the CPU has it (tests); returns the variant in use. */
    static native int selectVariant(int v);

    static native String variantName(int v);

    static native void quantize(float[] x, int values, byte[] q, float[] d, float[] s);

    static native void product(boolean q4, byte[] w, int wOff, short[] sc, int sOff, int rows, int blocks, byte[] xq,
                               float[] xd, float[] xs, int xBlock, int colBlocks, int n, float[] y, int yOff,
                               int yStride, boolean add);

    /**
     * Groups {@code [g0, g1)} of 8 rows of a Q4_0 slab (quants {@code w}, scales {@code sc}) repacked in place from the
     * row layout into {@link WeightPanel#interleave}'s; 0, or -1 where the C heap refused a group's scratch.
     */
    static native int interleave(byte[] w, short[] sc, int g0, int g1, int blocks);

    /**
     * Rows {@code [first, first + count)} of a Q4_0 slab of {@code slabRows} rows interleaved by
     * {@link WeightPanel#interleave} (amulet_q4x8.c) times {@code n} quantized columns:
     * {@code y[yOff + c * yStride + r - first]} stored or added to.
     */
    static native void productInterleaved(byte[] w, short[] sc, int slabRows, int first, int count, int blocks,
                                          byte[] xq, float[] xd, float[] xs, int xBlock, int colBlocks, int n,
                                          float[] y, int yOff, int yStride, boolean add);

    /** As {@link #product}, on weights off the heap: {@code w} and {@code sc} are the addresses of the run's first row. */
    static native void productAt(boolean q4, long w, long sc, int rows, int blocks, byte[] xq, float[] xd, float[] xs,
                                 int xBlock, int colBlocks, int n, float[] y, int yOff, int yStride, boolean add);

    /** As {@link #interleave}, on a slab off the heap (the addresses of its quants and scales). */
    static native int interleaveAt(long w, long sc, int g0, int g1, int blocks);

    /** As {@link #productInterleaved}, on a slab off the heap (the addresses of its quants and scales). */
    static native void productInterleavedAt(long w, long sc, int slabRows, int first, int count, int blocks, byte[] xq,
                                            float[] xd, float[] xs, int xBlock, int colBlocks, int n, float[] y,
                                            int yOff, int yStride, boolean add);
}
