package io.github.amulet4j.transformer.weights;

import java.nio.ByteBuffer;
import java.nio.ShortBuffer;

/**
 * The columns {@code [first, first + cols)} of every row of a {@link WeightMatrix}: the weights' bytes in slabs of
 * whole rows and, for Q8_0/Q4_0, the blocks' float16 scales apart in slabs of their own, so that a row's quants are
 * one contiguous run (a block's 32 bytes, or 16 bytes of nibbles packed as ggml packs them, one after the other) and
 * its scales another. K-quant rows are ggml's blocks as they are.
 *
 * <p>The slabs live on the Java heap ({@code byte[]} and {@code short[]}) for the Java kernels, or off it
 * ({@link NativeSlab}, {@link WeightMatrix.Storage#NATIVE}) for the native kernels, which read them at their
 * addresses. Why the heap for the Java kernels: the JDK 17 Vector API loads from arrays at up to twice the speed of
 * its loads from {@code ByteBuffer}s (Q8_0 products 19 against 12 G weights/s per core; see the user guide's "Where
 * the weights live"). Why off it for the native ones: the collector then sizes the heap without the weights. Why
 * scales apart: decoding a row's scales from the 34-byte blocks cost a third of the Q8_0 kernel.
 */
final class WeightPanel {

    final WeightFormat format;
    /** The matrix column of this panel's column 0 (a multiple of the widest vector's lanes and of a block). */
    final int first;
    final int cols;
    /** Bytes of one row in {@link #data}: quants only for Q8_0/Q4_0, whole blocks for the K-quants. */
    final int rowBytes;
    /** Blocks per row (32 weights for Q8_0/Q4_0, 256 for the K-quants), 0 for the float formats. */
    final int blocks;
    final int rowsPerSlab;
    /**
     * Scales past a slab's last row, so that the kernels widen a row's scales in whole vectors, reading into the next
     * row's (or this padding) instead of finishing a row's 28 blocks one by one: 64, the float lanes of the widest
     * vectors any JVM has (2,048-bit SVE).
     */
    static final int SCALE_PAD = 64;
    /** Rows of a group of the interleaved Q4_0 layout ({@link #interleave}). */
    static final int GROUP = 8;
    private final int rows;
    /** Heap slabs (null off the heap). */
    private final byte[][] data;
    private final short[][] scales;
    /** Slabs off the heap (null on it). */
    private final NativeSlab[] nativeData;
    private final NativeSlab[] nativeScales;
    /** Whether {@link #interleave} has repacked the Q4_0 rows for the native kernels. */
    private boolean interleaved;

    /** Whether the slabs came from a weight cache that holds the rows already ({@link WeightSlabs#prefilled}). */
    private final boolean prefilled;

    /** A panel on the heap ({@code slabs} null) or off it, its slabs from {@code slabs} in row order. */
    WeightPanel(WeightFormat format, int rows, int first, int cols, int maxSlabBytes, WeightSlabs slabs) {
        this.format = format;
        this.first = first;
        this.cols = cols;
        this.rows = rows;
        this.blocks = format.quantized() ? cols / format.blockWeights() : 0;
        this.rowBytes = switch (format) {
            case F32 -> 4 * cols;
            case BF16, F16 -> 2 * cols;
            case Q8_0 -> cols;
            case Q4_0 -> cols / 2;
            // K-quants: ggml's blocks as they are, scales inside
            case Q4_K, Q5_K, Q6_K, Q5_0 -> Math.toIntExact(format.rowBytes(cols));
        };
        // slabs sized by the row's bytes in the GGUF layout (scales included)
        this.rowsPerSlab = (int) Math.max(1, Math.min(rows, maxSlabBytes / format.rowBytes(cols)));
        int n = (rows + rowsPerSlab - 1) / rowsPerSlab;
        boolean apart = scalesApart(format);
        boolean offHeap = slabs != null;
        this.prefilled = offHeap && slabs.prefilled();
        this.data = offHeap ? null : new byte[n][];
        this.scales = offHeap || !apart ? null : new short[n][];
        this.nativeData = offHeap ? new NativeSlab[n] : null;
        this.nativeScales = offHeap && apart ? new NativeSlab[n] : null;
        for (int s = 0; s < n; s++) {
            int slabRows = Math.min(rowsPerSlab, rows - s * rowsPerSlab);
            if (offHeap) {
                nativeData[s] = slabs.next((long) slabRows * rowBytes);
                if (apart) {
                    nativeScales[s] = slabs.next(2L * (slabRows * blocks + SCALE_PAD));
                }
            } else {
                data[s] = allocate((long) slabRows * rowBytes);
                if (apart) {
                    scales[s] = new short[slabRows * blocks + SCALE_PAD];
                }
            }
        }
    }

    /** Whether the slabs live off the Java heap, for the native kernels ({@link NativeSlab}). */
    boolean offHeap() {
        return nativeData != null;
    }

    /** Whether the format's block scales are held apart from its quants (Q8_0, Q4_0). */
    private static boolean scalesApart(WeightFormat format) {
        return format == WeightFormat.Q8_0 || format == WeightFormat.Q4_0;
    }

    private static byte[] allocate(long bytes) {
        try {
            return new byte[Math.toIntExact(bytes)];
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("cannot allocate " + (bytes >> 20) + " MiB of Java heap for weights ("
                    + e.getMessage() + "); start Java with a larger -Xmx (the weights live on the heap)", e);
        }
    }

    /** The heap slab that holds row {@code r}'s weights (the Java kernels'; never called off the heap). */
    byte[] data(int r) {
        return data[r / rowsPerSlab];
    }

    /** The address of row {@code r}'s weights off the heap. */
    long address(int r) {
        return nativeData[r / rowsPerSlab].address + offset(r);
    }

    /** The address of the first row of the slab off the heap that holds row {@code r}. */
    long slabAddress(int r) {
        return nativeData[r / rowsPerSlab].address;
    }

    /** The address of the scales of the slab off the heap that holds row {@code r} (Q8_0/Q4_0). */
    long scaleSlabAddress(int r) {
        return nativeScales[r / rowsPerSlab].address;
    }

    /** The address of row {@code r}'s scales off the heap (Q8_0/Q4_0). */
    long scaleAddress(int r) {
        return scaleSlabAddress(r) + 2L * scaleOffset(r);
    }

    /** Byte offset of row {@code r} in {@link #data(int)}. */
    int offset(int r) {
        return (r % rowsPerSlab) * rowBytes;
    }

    /** The slab that holds row {@code r}'s scales (Q8_0/Q4_0). */
    short[] scales(int r) {
        return scales[r / rowsPerSlab];
    }

    /** Index of row {@code r}'s first scale in {@link #scales(int)}. */
    int scaleOffset(int r) {
        return (r % rowsPerSlab) * blocks;
    }

    /** Rows in the slab that holds row {@code r}. */
    int slabRows(int r) {
        return Math.min(rowsPerSlab, rows - r / rowsPerSlab * rowsPerSlab);
    }

    /** Whether the rows are in the interleaved Q4_0 layout of {@link #interleave}. */
    boolean interleaved() {
        return interleaved;
    }

    /**
     * Repacks the Q4_0 rows in place into the layout of the native interleaved kernels (amulet_q4x8.c): in each slab,
     * every whole group of {@value #GROUP} rows keeps, per block, its rows' 16 bytes of nibbles as 4 chunks of 32
     * bytes (chunk {@code q}: bytes {@code 4q..4q+3} of row 0, of row 1, ..., of row 7) and its 8 float16 scales row
     * after row; the slab's rows past its last whole group stay as they were. The same bytes moved, none added: a
     * group's bytes and scales take the place its 8 rows took. Called once, before the panel is shared; needs the
     * native library (which moves the bytes).
     */
    void interleave() {
        if (format != WeightFormat.Q4_0 || interleaved) {
            throw new IllegalStateException("only a Q4_0 panel in the row layout is interleaved, this one is " + format
                    + (interleaved ? " (interleaved already)" : ""));
        }
        if (prefilled) {
            // a weight cache written after this step: its rows are interleaved already
            interleaved = true;
            return;
        }
        int slabs = offHeap() ? nativeData.length : data.length;
        for (int s = 0; s < slabs; s++) {
            int slab = s;
            int groups = slabRows(s * rowsPerSlab) / GROUP;
            // the native library moves the bytes (a Java loop took half a second for a 0.5B model), chunks on all cores
            WeightMatrix.inChunks(groups, 4096, (first, count) -> {
                int failed = offHeap()
                        ? NativeKernels.interleaveAt(nativeData[slab].address, nativeScales[slab].address, first,
                                first + count, blocks)
                        : NativeKernels.interleave(data[slab], scales[slab], first, first + count, blocks);
                if (failed != 0) {
                    throw new IllegalStateException("no memory for interleaving a group of " + GROUP + " Q4_0 rows");
                }
            });
        }
        interleaved = true;
    }

    /** Whether row {@code r} lies in a group of the interleaved layout (not among a slab's last rows). */
    private boolean grouped(int r) {
        return interleaved && r % rowsPerSlab < slabRows(r) / GROUP * GROUP;
    }

    /** Stores row {@code r}'s columns of this panel, given in the GGUF block layout at {@code src[pos...]}. */
    void put(int r, ByteBuffer src, int pos) {
        if (interleaved) {
            throw new IllegalStateException("rows are stored before the panel is interleaved, not after");
        }
        ByteBuffer d = bytes(r);
        int o = offset(r);
        switch (format) {
            case F32, BF16, F16, Q4_K, Q5_K, Q6_K, Q5_0 -> d.put(o, src, pos, rowBytes);
            case Q8_0, Q4_0 -> {
                ShortBuffer s = scaleShorts(r);
                int so = scaleOffset(r);
                int quants = format.blockBytes() - 2;
                for (int k = 0; k < blocks; k++) {
                    int q = pos + k * format.blockBytes();
                    s.put(so + k, src.getShort(q));
                    d.put(o + k * quants, src, q + 2, quants);
                }
            }
        }
    }

    /** The slab that holds row {@code r}'s weights as a buffer: the heap array wrapped, or the slab's view. */
    private ByteBuffer bytes(int r) {
        return offHeap() ? nativeData[r / rowsPerSlab].view() : ByteBuffer.wrap(data(r));
    }

    /** The slab that holds row {@code r}'s scales (Q8_0/Q4_0) as little-endian shorts, on the heap or off it. */
    private ShortBuffer scaleShorts(int r) {
        return offHeap() ? nativeScales[r / rowsPerSlab].view().asShortBuffer() : ShortBuffer.wrap(scales(r));
    }

    /**
     * Stores rows {@code [first, first + count)} off the heap from native memory at {@code src} (GGUF block layout,
     * whole matrix rows {@code srcStride} bytes apart, this panel's columns {@code pieceOffset} bytes into each), each
     * row checked as it is copied. Returns the first row (of the {@code count}) with a weight or scale that is
     * infinite or NaN, or -1. The rows lie in one slab.
     */
    int storeOffHeap(int first, int count, long src, int srcStride, int pieceOffset) {
        long scalesAt = nativeScales == null ? 0 : scaleAddress(first);
        return NativeSlab.storeRows(NativeSlab.kind(format), src + pieceOffset, srcStride, count, address(first),
                rowBytes, scalesAt, blocks, format.blockBytes());
    }

    /** Writes row {@code r}'s columns of this panel in the GGUF block layout to {@code dst[pos...]}. */
    void get(int r, ByteBuffer dst, int pos) {
        ByteBuffer d = bytes(r);
        int o = offset(r);
        switch (format) {
            case F32, BF16, F16, Q4_K, Q5_K, Q6_K, Q5_0 -> dst.put(pos, d, o, rowBytes);
            case Q8_0, Q4_0 -> {
                ShortBuffer s = scaleShorts(r);
                int so = scaleOffset(r);
                int quants = format.blockBytes() - 2;
                if (grouped(r)) {
                    // the row's bytes and scales gathered from its group (see interleave)
                    int i = r % rowsPerSlab % GROUP;
                    int go = o - i * rowBytes;
                    int gs = so - i * blocks;
                    for (int k = 0; k < blocks; k++) {
                        int q = pos + k * format.blockBytes();
                        dst.putShort(q, s.get(gs + k * GROUP + i));
                        for (int c = 0; c < 4; c++) {
                            dst.put(q + 2 + 4 * c, d, go + k * 128 + c * 32 + i * 4, 4);
                        }
                    }
                    return;
                }
                for (int k = 0; k < blocks; k++) {
                    int q = pos + k * format.blockBytes();
                    dst.putShort(q, s.get(so + k));
                    dst.put(q + 2, d, o + k * quants, quants);
                }
            }
        }
    }
}
