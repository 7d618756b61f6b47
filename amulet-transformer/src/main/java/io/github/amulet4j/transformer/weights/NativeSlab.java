package io.github.amulet4j.transformer.weights;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A block of memory off the Java heap that holds weights for the native kernels (src/main/c/amulet_memory.c, in the
 * native kernels' library): mapped anonymous and private by the library (huge pages asked for), or a region of a
 * weight cache file ({@link WeightSlabs}); read by the kernels at its {@link #address}, written and read by Java
 * through a direct-buffer {@link #view}. Unmapped when the slab is no longer reachable (a {@link Cleaner}, as the JDK
 * frees direct buffers; a file region with its buffer): whoever passes {@link #address} to native code keeps the slab
 * reachable until the call returns.
 *
 * <p>Why off the heap: weights on the heap make the JVM's collector size the heap around them (with G1, the default,
 * an application that loaded a 1.9 GB checkpoint kept a 3.5 GB heap), and copying them there cost page faults and
 * collections at load.
 */
final class NativeSlab {

    private static final Cleaner CLEANER = Cleaner.create();

    /** Kinds of {@link #storeRows}, as amulet_memory.c numbers them. */
    static final int F32 = 0;
    static final int F16 = 1;
    static final int BF16 = 2;
    static final int Q8_0 = 3;
    static final int Q4_0 = 4;
    static final int Q4_K_Q5_K = 5;
    static final int Q6_K = 6;

    final long address;
    final long bytes;
    /** The slab's bytes as a buffer: a view made by the library, or the mapped file region that holds them. */
    private final ByteBuffer view;

    private NativeSlab(long address, long bytes) {
        this.address = address;
        this.bytes = bytes;
        this.view = view(address, bytes).order(ByteOrder.LITTLE_ENDIAN);
        CLEANER.register(this, () -> free(address, bytes));
    }

    private NativeSlab(java.nio.MappedByteBuffer mapped) {
        this.address = address(mapped);
        this.bytes = mapped.capacity();
        // the mapping lives as long as this buffer (the JDK unmaps it when it is collected): held here
        this.view = mapped.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A slab over a mapped file region ({@link WeightSlabs}): unmapped by the JDK with its buffer, not here. */
    static NativeSlab mapped(java.nio.MappedByteBuffer mapped) {
        if (!NativeKernels.available()) {
            throw new IllegalStateException("weights off the Java heap need the native library: "
                    + NativeKernels.unavailableReason());
        }
        return new NativeSlab(mapped);
    }

    /**
     * A new slab of {@code bytes} (at most {@link Integer#MAX_VALUE}: its view is a buffer).
     *
     * @throws IllegalStateException when the system refuses the memory, or without the native library
     */
    static NativeSlab allocate(long bytes) {
        if (!NativeKernels.available()) {
            throw new IllegalStateException("weights off the Java heap need the native library: "
                    + NativeKernels.unavailableReason());
        }
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a slab of " + bytes + " bytes (1 to " + Integer.MAX_VALUE + ")");
        }
        long a = allocate0(bytes);
        if (a == 0) {
            throw new IllegalStateException("the system refused " + (bytes >> 20) + " MiB of memory for weights off"
                    + " the Java heap");
        }
        return new NativeSlab(a, bytes);
    }

    /** A little-endian view of the whole slab (a duplicate: its position and limit are the caller's). */
    ByteBuffer view() {
        return view.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The kind of {@link #storeRows} for {@code format}. */
    static int kind(WeightFormat format) {
        return switch (format) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q4_K, Q5_K -> Q4_K_Q5_K;
            case Q6_K -> Q6_K;
        };
    }

    /**
     * Maps the pages of a file region into the page tables in one call (Linux 5.14+; elsewhere they fault in as they
     * are first read): 0, or -1 where the kernel refused.
     */
    static native int populate(long address, long bytes);

    /** The address of a direct buffer's first byte (its position not counted). */
    static native long address(ByteBuffer direct);

    private static native long allocate0(long bytes);

    private static native void free(long address, long bytes);

    private static native ByteBuffer view(long address, long bytes);

    /**
     * Copies {@code count} rows from {@code src} ({@code srcStride} bytes apart, at the panel's first column) to
     * {@code dst} ({@code dstRowBytes} apart) and, for Q8_0/Q4_0, their block scales to {@code scales}
     * ({@code blocks} a row): the blocks split into quants and scales. Returns the first row with a weight or scale
     * that is infinite or NaN, or -1.
     */
    static native int storeRows(int kind, long src, long srcStride, int count, long dst, long dstRowBytes,
                                long scales, int blocks, int blockBytes);
}
