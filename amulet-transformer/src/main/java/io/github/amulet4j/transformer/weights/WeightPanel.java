package io.github.amulet4j.transformer.weights;

import java.nio.ByteBuffer;

/**
 * The columns {@code [first, first + cols)} of every row of a {@link WeightMatrix}, on the Java heap: the weights'
 * bytes in {@code byte[]} slabs of whole rows and, for Q8_0/Q4_0, the blocks' float16 scales apart in
 * {@code short[]} slabs, so that a row's quants are one contiguous run (a block's 32 bytes, or 16 bytes of nibbles
 * packed as ggml packs them, one after the other) and its scales another. K-quant rows are ggml's blocks as they are.
 *
 * <p>Why the heap and not direct buffers: the JDK 17 Vector API loads from arrays at up to twice the speed of its
 * loads from {@code ByteBuffer}s (Q8_0 products 19 against 12 G weights/s per core; see the user guide's "Where the
 * weights live"). Why scales apart: decoding a row's scales from the 34-byte blocks cost a third of the Q8_0 kernel.
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
    private final byte[][] data;
    private final short[][] scales;
    /** Whether {@link #interleave} has repacked the Q4_0 rows for the native kernels. */
    private boolean interleaved;

    WeightPanel(WeightFormat format, int rows, int first, int cols, int maxSlabBytes) {
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
            case Q4_K, Q5_K, Q6_K -> Math.toIntExact(format.rowBytes(cols));
        };
        // slabs sized by the row's bytes in the GGUF layout (scales included)
        this.rowsPerSlab = (int) Math.max(1, Math.min(rows, maxSlabBytes / format.rowBytes(cols)));
        int n = (rows + rowsPerSlab - 1) / rowsPerSlab;
        this.data = new byte[n][];
        this.scales = scalesApart(format) ? new short[n][] : null;
        for (int s = 0; s < n; s++) {
            int slabRows = Math.min(rowsPerSlab, rows - s * rowsPerSlab);
            data[s] = allocate((long) slabRows * rowBytes);
            if (scales != null) {
                scales[s] = new short[slabRows * blocks + SCALE_PAD];
            }
        }
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

    /** The slab that holds row {@code r}'s weights. */
    byte[] data(int r) {
        return data[r / rowsPerSlab];
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
        for (int s = 0; s < data.length; s++) {
            byte[] d = data[s];
            short[] sc = scales[s];
            int groups = slabRows(s * rowsPerSlab) / GROUP;
            // the native library moves the bytes (a Java loop took half a second for a 0.5B model), chunks on all cores
            WeightMatrix.inChunks(groups, 4096, (first, count) -> {
                if (NativeKernels.interleave(d, sc, first, first + count, blocks) != 0) {
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
        byte[] d = data(r);
        int o = offset(r);
        switch (format) {
            case F32, BF16, F16, Q4_K, Q5_K, Q6_K -> src.get(pos, d, o, rowBytes);
            case Q8_0, Q4_0 -> {
                short[] s = scales(r);
                int so = scaleOffset(r);
                int quants = format.blockBytes() - 2;
                for (int k = 0; k < blocks; k++) {
                    int q = pos + k * format.blockBytes();
                    s[so + k] = src.getShort(q);
                    src.get(q + 2, d, o + k * quants, quants);
                }
            }
        }
    }

    /** Writes row {@code r}'s columns of this panel in the GGUF block layout to {@code dst[pos...]}. */
    void get(int r, ByteBuffer dst, int pos) {
        byte[] d = data(r);
        int o = offset(r);
        switch (format) {
            case F32, BF16, F16, Q4_K, Q5_K, Q6_K -> dst.put(pos, d, o, rowBytes);
            case Q8_0, Q4_0 -> {
                short[] s = scales(r);
                int so = scaleOffset(r);
                int quants = format.blockBytes() - 2;
                if (grouped(r)) {
                    // the row's bytes and scales gathered from its group (see interleave)
                    int i = r % rowsPerSlab % GROUP;
                    int go = o - i * rowBytes;
                    int gs = so - i * blocks;
                    for (int k = 0; k < blocks; k++) {
                        int q = pos + k * format.blockBytes();
                        dst.putShort(q, s[gs + k * GROUP + i]);
                        for (int c = 0; c < 4; c++) {
                            dst.put(q + 2 + 4 * c, d, go + k * 128 + c * 32 + i * 4, 4);
                        }
                    }
                    return;
                }
                for (int k = 0; k < blocks; k++) {
                    int q = pos + k * format.blockBytes();
                    dst.putShort(q, s[so + k]);
                    dst.put(q + 2, d, o + k * quants, quants);
                }
            }
        }
    }
}
