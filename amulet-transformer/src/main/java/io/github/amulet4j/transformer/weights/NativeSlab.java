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
    static final int Q5_0 = 7;
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
        this.owner = null;
        CLEANER.register(this, () -> free(address, bytes));
    }

    /** Whatever must stay reachable while the slab is (the file mapping it lies in); null for a slab of its own. */
    private final Object owner;

    private NativeSlab(long address, long bytes, Object owner) {
        this.address = address;
        this.bytes = bytes;
        this.view = view(address, bytes).order(ByteOrder.LITTLE_ENDIAN);
        this.owner = owner;
    }

    /** A read-only file mapped whole ({@link #mapFile}), unmapped when no slab in it is reachable any more. */
    static final class FileMapping {
        final long address;
        final long bytes;

        private FileMapping(long address, long bytes) {
            this.address = address;
            this.bytes = bytes;
            CLEANER.register(this, () -> free(address, bytes));
        }

        /** The slab of {@code bytes} at {@code offset} of the file. */
        NativeSlab slab(long offset, long bytes) {
            if (offset < 0 || bytes <= 0 || offset + bytes > this.bytes || bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("a slab of " + bytes + " bytes at " + offset + " of a "
                        + this.bytes + "-byte mapping");
            }
            return new NativeSlab(address + offset, bytes, this);
        }
    }

    /**
     * The first {@code bytes} of {@code file} mapped read-only at a 2 MiB boundary, its pages asked for as huge pages
     * and entered into the page tables at once ({@link #populate}).
     *
     * @throws java.io.IOException where the file cannot be opened or mapped
     */
    static FileMapping mapFile(java.nio.file.Path file, long bytes) throws java.io.IOException {
        if (!NativeKernels.available()) {
            throw new IllegalStateException("weights off the Java heap need the native library: "
                    + NativeKernels.unavailableReason());
        }
        long a = mapFile(file.toAbsolutePath().toString(), bytes);
        if (a == 0) {
            throw new java.io.IOException("cannot map " + file);
        }
        FileMapping m = new FileMapping(a, bytes);
        populate(a, bytes);
        return m;
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
            case Q5_0 -> Q5_0;
        };
    }

    /**
     * Asks for huge pages over a file mapping's region and maps its pages into the page tables in one call (Linux
     * 5.14+; elsewhere they fault in as they are first read): 0, or -1 where the kernel refused.
     */
    static native int populate(long address, long bytes);

    /** The first {@code bytes} of the file at {@code path} mapped read-only at a 2 MiB boundary; 0 on failure. */
    private static native long mapFile(String path, long bytes);

    /**
     * Writes the file at {@code path} to disk and drops its pages from the page cache (its next reader reads it in
     * 2 MiB folios): 0, or -1.
     */
    static native int dropCached(String path);

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
