package io.github.amulet4j.transformer.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A weight matrix {@code [rows, cols]} in one {@link WeightFormat}, held on the Java heap for the Java kernels or off
 * it for the native ones ({@link Storage}): converted here from float32 ({@link #of}) or copied from raw GGUF rows
 * ({@link #wrap}, {@link #fromStoredBytes}); or row ranges of such matrices in formats of their own, one above the
 * other ({@link #stacked}). Matrices of more than {@value #SPLIT_COLS}
 * columns are kept as panels of {@value #PANEL_COLS} columns ({@code [panel][row][column]}), so that a product
 * streams one panel's rows while that panel's slice of the activations stays in the L1 cache (two activation
 * columns of 4,864 floats did not fit beside the weights' stream: two-column products of such rows ran at a third of
 * the speed). Each panel keeps its rows in slabs of at most {@value #MAX_SLAB_BYTES} bytes, and the Q8_0/Q4_0 block
 * scales apart from the quants ({@link WeightPanel}).
 *
 * <p>{@link #multiply} computes {@code y = x W^T} with the Java Vector API kernels (the JVM needs
 * {@code --add-modules jdk.incubator.vector}); {@link #row} and {@link #get} dequantize without it.
 * Immutable once built; safe to share between threads.
 */
public final class WeightMatrix {

    /** Most bytes in one slab. */
    public static final int MAX_SLAB_BYTES = 1 << 30;
    /** Matrices with more columns than this are split into panels. */
    public static final int SPLIT_COLS = 2048;
    /** Columns of a panel of a split matrix (the last one may have fewer). */
    public static final int PANEL_COLS = 1024;

    private final WeightFormat format;
    private final int rows;
    private final int cols;
    private final int rowBytes;
    private final WeightPanel[] panels;
    private final boolean offHeap;
    /** A matrix of row ranges in formats of their own ({@link #stacked}); null for a matrix in one format. */
    private final StackedRows stack;

    /**
     * Where a matrix's bytes live: on the Java heap, where the Java kernels read them (and the native ones too), or off
     * it ({@link NativeSlab}), where only the native kernels read them, so that the collector sizes the heap without
     * the weights. {@link #NATIVE} applies to the formats the native kernels multiply ({@link NativeKernels#supports})
     * where the library is loaded; a matrix of any other format is held on the heap.
     */
    public static final class Storage {
        /** On the Java heap. */
        public static final Storage HEAP = new Storage(null);
        /** Off the Java heap in fresh memory, for the native kernels, where they multiply the format. */
        public static final Storage NATIVE = new Storage(WeightSlabs.anonymous());

        /** Where the slabs off the heap come from; null on the heap. */
        private final WeightSlabs slabs;

        private Storage(WeightSlabs slabs) {
            this.slabs = slabs;
        }

        /** Off the Java heap, the slabs from {@code slabs} (e.g. a weight cache file). */
        public static Storage nativeIn(WeightSlabs slabs) {
            return new Storage(Objects.requireNonNull(slabs, "slabs"));
        }

        /** Whether a matrix of {@code format} is held off the heap with this storage. */
        public boolean offHeap(WeightFormat format) {
            return slabs != null && NativeKernels.supports(format) && NativeKernels.available();
        }

        /**
         * Whether a checkpoint's tensor stored as {@code format} is best held as it is with this storage: off the heap
         * where the native kernels multiply it, and, for Q5_0, only where a vector variant does (with the scalar C
         * variant alone, x86 without AVX2, Q8_0's kernels are faster: the tensor is held as Q8_0).
         */
        public boolean keepsStored(WeightFormat format) {
            return offHeap(format) && (format != WeightFormat.Q5_0 || Q50Kernels.vectorized());
        }

        /** The slabs of a matrix of {@code format}: null on the heap. */
        WeightSlabs slabsFor(WeightFormat format) {
            return offHeap(format) ? slabs : null;
        }

        @Override
        public String toString() {
            return slabs == null ? "heap" : "off the heap (" + slabs + ")";
        }
    }

    private WeightMatrix(WeightFormat format, int rows, int cols, int maxSlabBytes) {
        this(format, rows, cols, maxSlabBytes, null);
    }

    /** A matrix on the heap ({@code slabs} null) or off it, its slabs from {@code slabs}. */
    private WeightMatrix(WeightFormat format, int rows, int cols, int maxSlabBytes, WeightSlabs slabs) {
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = Math.toIntExact(format.rowBytes(cols));
        this.offHeap = slabs != null;
        this.stack = null;
        // K-quant and Q5_0 rows are never split: their native kernels read 8-bit activations, which stay in L1 whole
        int width = cols > SPLIT_COLS && !format.storedOnly() ? PANEL_COLS : cols;
        int n = (cols + width - 1) / width;
        this.panels = new WeightPanel[n];
        for (int p = 0; p < n; p++) {
            panels[p] = new WeightPanel(format, rows, p * width, Math.min(width, cols - p * width), maxSlabBytes,
                    slabs);
        }
    }

    /** The matrix of {@code stack}'s parts, one above the other. */
    private WeightMatrix(StackedRows stack) {
        this.stack = stack;
        this.format = stack.part(0).format;
        this.rows = stack.rows();
        this.cols = stack.part(0).cols;
        this.rowBytes = -1;
        this.offHeap = stack.anyOffHeap();
        this.panels = new WeightPanel[0];
    }

    /**
     * {@code parts} (with the same columns) one above the other as one matrix, each part held and multiplied in its
     * own format: a fused q/k/v or gate/up whose checkpoint tensors differ in type (a Q4_K_M file's Q4_K q/k and Q6_K
     * v) kept in their own blocks, none converted. Each output row gets exactly the bits it gets from its part alone
     * ({@link #multiply}, with either kernels; the native products quantize the activations once for each kind of
     * input the parts read).
     *
     * @throws IllegalArgumentException for fewer than two parts, parts of different widths, or a part that is stacked
     *                                  or interleaved already
     */
    public static WeightMatrix stacked(java.util.List<WeightMatrix> parts) {
        return new WeightMatrix(new StackedRows(parts));
    }

    /** Whether this matrix is row ranges in formats of their own ({@link #stacked}). */
    public boolean isStacked() {
        return stack != null;
    }

    /** The parts of a {@link #stacked} matrix, top to bottom; this matrix alone otherwise. */
    public java.util.List<WeightMatrix> parts() {
        return stack == null ? java.util.List.of(this) : stack.parts();
    }

    /** The formats of the rows: {@link #format()}, or every part's for a {@link #stacked} matrix. */
    public java.util.Set<WeightFormat> formats() {
        java.util.Set<WeightFormat> all = java.util.EnumSet.noneOf(WeightFormat.class);
        for (WeightMatrix p : parts()) {
            all.add(p.format);
        }
        return all;
    }

    /**
     * A matrix holding a copy of the raw rows (GGUF block layout, little-endian) in {@code data} from its position to
     * its limit (the buffer's position, limit and order are left alone), e.g. a tensor of a GGUF file.
     *
     * @throws IllegalArgumentException if the bytes are not exactly {@code rows} rows of {@code cols} weights in
     *                                  {@code format}, or a row is not whole blocks
     */
    public static WeightMatrix wrap(WeightFormat format, int rows, int cols, ByteBuffer data) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(data, "data");
        long need = checkShape(format, rows, cols);
        if (data.remaining() != need) {
            throw new IllegalArgumentException(format + " [" + rows + ", " + cols + "] needs " + need + " bytes, the "
                    + "buffer holds " + data.remaining());
        }
        ByteBuffer src = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        WeightMatrix m = new WeightMatrix(format, rows, cols, MAX_SLAB_BYTES);
        inChunks(rows, Math.max(1, (1 << 20) / m.rowBytes), (first, count) -> {
            for (int r = first; r < first + count; r++) {
                m.putRow(r, src, r * m.rowBytes);
            }
        });
        return m;
    }

    /** Stores row {@code r} given in the GGUF block layout at {@code src[pos...]}. */
    private void putRow(int r, ByteBuffer src, int pos) {
        for (WeightPanel p : panels) {
            p.put(r, src, pos + pieceOffset(p));
        }
    }

    /** Writes row {@code r} in the GGUF block layout ({@link #rowBytes()} bytes) to {@code dst[pos...]}. */
    public void copyRow(int r, ByteBuffer dst, int pos) {
        Objects.checkIndex(r, rows);
        if (stack != null) {
            int i = stack.partOf(r);
            stack.part(i).copyRow(r - stack.start(i), dst, pos);
            return;
        }
        Objects.checkFromIndexSize(pos, rowBytes, dst.limit());
        gather(r, dst.duplicate().order(ByteOrder.LITTLE_ENDIAN), pos);
    }

    /** Row {@code r} in the GGUF block layout into the little-endian {@code out} from {@code pos}. */
    private void gather(int r, ByteBuffer out, int pos) {
        for (WeightPanel p : panels) {
            p.get(r, out, pos + pieceOffset(p));
        }
    }

    /** Where a panel's columns start in a GGUF row. */
    private int pieceOffset(WeightPanel p) {
        return p.first / format.blockWeights() * format.blockBytes();
    }

    /**
     * {@code values} ({@code [rows, cols]} row-major float32) converted to {@code format} in newly allocated
     * heap arrays (see {@link BlockQuantizer} for the rounding and its error bounds).
     *
     * @throws IllegalArgumentException for a wrong length, rows that are not whole blocks, or values the format
     *                                  cannot hold (non-finite; beyond the F16 range)
     * @throws IllegalStateException    when the JVM refuses the heap, naming the option to raise
     */
    public static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols) {
        return of(format, values, rows, cols, MAX_SLAB_BYTES);
    }

    /** {@link #of(WeightFormat, float[], int, int)} held in {@code storage}. */
    public static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols, Storage storage) {
        return of(format, values, rows, cols, MAX_SLAB_BYTES, storage);
    }

    /** {@link #of(WeightFormat, float[], int, int)} with slabs of at most {@code maxSlabBytes} (whole rows). */
    static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols, int maxSlabBytes) {
        return of(format, values, rows, cols, maxSlabBytes, Storage.HEAP);
    }

    /** {@link #of(WeightFormat, float[], int, int)} with slabs of at most {@code maxSlabBytes}, in {@code storage}. */
    static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols, int maxSlabBytes,
                           Storage storage) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(values, "values");
        checkShape(format, rows, cols);
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException(values.length + " values for [" + rows + ", " + cols + "]");
        }
        // the values are already in memory: chunks of about a million of them
        return build(format, rows, cols, maxSlabBytes, storage, 1 << 20,
                (first, count) -> new Chunk(values, first * cols));
    }

    /**
     * Supplies the rows of a matrix as float32, a few at a time, for {@link #of(WeightFormat, int, int, RowReader)}.
     * Called from several threads at once for different rows.
     */
    @FunctionalInterface
    public interface RowReader {
        /**
         * Writes rows {@code [firstRow, firstRow + rowCount)} row-major into {@code dst} from index 0 ({@code dst} is a
         * buffer of the calling thread, reused for its next rows, and may be longer than the rows).
         */
        void read(int firstRow, int rowCount, float[] dst);
    }

    /**
     * A matrix converted to {@code format} from rows that {@code reader} supplies chunk by chunk (at most
     * {@value #READ_CHUNK_VALUES} values at a time), so that no float32 copy of the whole matrix is ever held: loading a
     * checkpoint this way needs the weights' own bytes and a few MiB beside them.
     *
     * @throws IllegalArgumentException as {@link #of(WeightFormat, float[], int, int)}
     * @throws IllegalStateException    when the JVM refuses the heap, naming the option to raise
     */
    public static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader) {
        return of(format, rows, cols, reader, MAX_SLAB_BYTES, Storage.HEAP);
    }

    /** {@link #of(WeightFormat, int, int, RowReader)} held in {@code storage}. */
    public static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader, Storage storage) {
        return of(format, rows, cols, reader, MAX_SLAB_BYTES, storage);
    }

    /** {@link #of(WeightFormat, int, int, RowReader)} with slabs of at most {@code maxSlabBytes} (whole rows). */
    static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader, int maxSlabBytes) {
        return of(format, rows, cols, reader, maxSlabBytes, Storage.HEAP);
    }

    private static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader, int maxSlabBytes,
                                   Storage storage) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(reader, "reader");
        checkShape(format, rows, cols);
        return build(format, rows, cols, maxSlabBytes, storage, READ_CHUNK_VALUES, (first, count) -> {
            // a per-thread buffer, as fromStoredBytes's: a new one a chunk was garbage as large as the matrices
            // converted, and the chunks in use at each young collection were promoted and piled up in the old
            // generation (an 8B Q4_K_M file, whose mixed q/k/v are converted: 2.4 GiB resident above the weights)
            float[] values = FLOAT_CHUNK.get();
            if (values.length < count * cols) {
                values = new float[Math.max(count * cols, READ_CHUNK_VALUES)];
                FLOAT_CHUNK.set(values);
            }
            reader.read(first, count, values);
            return new Chunk(values, 0);
        });
    }

    /** The per-thread float32 buffer of {@link #of(WeightFormat, int, int, RowReader)}. */
    private static final ThreadLocal<float[]> FLOAT_CHUNK = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Supplies the rows of a matrix as the bytes of its format (GGUF's block layout, little-endian; a K-quant row is
     * ggml's blocks), a few at a time, for {@link #fromStoredBytes}. Called from several threads at once for different
     * rows.
     */
    @FunctionalInterface
    public interface RawReader {
        /** Puts rows {@code [firstRow, firstRow + rowCount)} into {@code dst} from its position. */
        void read(int firstRow, int rowCount, ByteBuffer dst);
    }

    /**
     * A matrix copied from rows that {@code reader} supplies in {@code format}'s bytes (a checkpoint tensor stored in
     * the format kept: nothing decoded or encoded), about a MiB at a time on every core; the values are checked as
     * {@link #of(WeightFormat, float[], int, int)} checks them (finite, and the block scales). The only way to a
     * K-quant matrix (Q4_K, Q5_K, Q6_K: there is no quantizer for them), kept in a GGUF file's blocks as they are.
     *
     * @throws IllegalArgumentException for a shape the format cannot hold, or a value that is not finite, naming
     *                                  the row
     * @throws IllegalStateException    when the JVM refuses the heap, naming the option to raise
     */
    public static WeightMatrix fromStoredBytes(WeightFormat format, int rows, int cols, RawReader reader) {
        return fromStoredBytes(format, rows, cols, reader, MAX_SLAB_BYTES, Storage.HEAP);
    }

    /**
     * {@link #fromStoredBytes(WeightFormat, int, int, RawReader)} held in {@code storage}: off the heap, the rows are
     * read into a direct buffer and copied (Q8_0/Q4_0 blocks split into quants and scales) and checked by the native
     * library, nothing passing through the heap.
     */
    public static WeightMatrix fromStoredBytes(WeightFormat format, int rows, int cols, RawReader reader,
                                               Storage storage) {
        return fromStoredBytes(format, rows, cols, reader, MAX_SLAB_BYTES, storage);
    }

    /** {@link #fromStoredBytes(WeightFormat, int, int, RawReader)} with slabs of at most {@code maxSlabBytes}. */
    static WeightMatrix fromStoredBytes(WeightFormat format, int rows, int cols, RawReader reader, int maxSlabBytes) {
        return fromStoredBytes(format, rows, cols, reader, maxSlabBytes, Storage.HEAP);
    }

    static WeightMatrix fromStoredBytes(WeightFormat format, int rows, int cols, RawReader reader, int maxSlabBytes,
                                        Storage storage) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(storage, "storage");
        checkShape(format, rows, cols);
        if (storage.offHeap(format)) {
            return storedOffHeap(format, rows, cols, reader, maxSlabBytes, storage.slabsFor(format));
        }
        WeightMatrix m = new WeightMatrix(format, rows, cols, maxSlabBytes);
        inChunks(rows, Math.max(1, Math.min(rows, (1 << 20) / m.rowBytes)), (first, count) -> {
            ByteBuffer chunk = readRows(reader, first, count, m.rowBytes, RAW_CHUNK, false);
            for (int i = 0; i < count; i++) {
                RawRowCheck.check(format, chunk, i * m.rowBytes, cols, first + i);
                m.putRow(first + i, chunk, i * m.rowBytes);
            }
        });
        return m;
    }

    /** The per-thread buffer of {@link #fromStoredBytes}. */
    private static final ThreadLocal<ByteBuffer> RAW_CHUNK = ThreadLocal.withInitial(() -> ByteBuffer.allocate(0));

    /** The per-thread direct buffer of {@link #storedOffHeap}, and its address. */
    private static final ThreadLocal<ByteBuffer> DIRECT_CHUNK =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));

    /**
     * Rows {@code [first, first + count)} of {@code rowBytes} each from {@code reader} into this thread's buffer of
     * {@code buffers} (grown to hold them, at least 1 MiB; direct or on the heap), from position 0 to its limit. A
     * per-thread buffer: a new MiB a chunk was as much garbage as the weights (and young collections with it).
     *
     * @throws IllegalStateException if the reader gave fewer or more bytes
     */
    private static ByteBuffer readRows(RawReader reader, int first, int count, int rowBytes,
                                       ThreadLocal<ByteBuffer> buffers, boolean direct) {
        ByteBuffer chunk = buffers.get();
        if (chunk.capacity() < count * rowBytes) {
            int size = Math.max(count * rowBytes, 1 << 20);
            chunk = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
            chunk.order(ByteOrder.LITTLE_ENDIAN);
            buffers.set(chunk);
        }
        chunk.clear().limit(count * rowBytes);
        reader.read(first, count, chunk);
        if (chunk.position() != chunk.limit()) {
            throw new IllegalStateException("rows " + first + "+" + count + ": the reader gave " + chunk.position()
                    + " bytes, " + chunk.limit() + " expected");
        }
        return chunk;
    }

    /** {@link #fromStoredBytes} off the heap: each chunk of rows read into a direct buffer, stored by the library. */
    private static WeightMatrix storedOffHeap(WeightFormat format, int rows, int cols, RawReader reader,
                                              int maxSlabBytes, WeightSlabs slabs) {
        WeightMatrix m = new WeightMatrix(format, rows, cols, maxSlabBytes, slabs);
        if (slabs.prefilled()) {
            return m; // a weight cache's slabs: the rows are there already
        }
        inChunks(rows, Math.max(1, Math.min(rows, (1 << 20) / m.rowBytes)), (first, count) -> {
            ByteBuffer chunk = readRows(reader, first, count, m.rowBytes, DIRECT_CHUNK, true);
            long base = NativeSlab.address(chunk);
            for (WeightPanel p : m.panels) {
                for (int r = first; r < first + count; ) {
                    // a run of rows within one slab
                    int end = Math.min(first + count, (r / p.rowsPerSlab + 1) * p.rowsPerSlab);
                    int bad = p.storeOffHeap(r, end - r, base + (long) (r - first) * m.rowBytes, m.rowBytes,
                            m.pieceOffset(p));
                    if (bad >= 0) {
                        // the message names the row and the weight or block
                        int i = r - first + bad;
                        RawRowCheck.check(format, chunk, i * m.rowBytes, cols, first + i);
                        throw new IllegalArgumentException("row " + (first + i) + ": not finite");
                    }
                    r = end;
                }
            }
            java.lang.ref.Reference.reachabilityFence(chunk);
        });
        return m;
    }

    /** Most values a {@link RowReader} is asked for at once (1 MiB of float32: no humongous objects for G1). */
    public static final int READ_CHUNK_VALUES = 1 << 18;

    /** Float32 values of some rows: {@code values} from {@code offset}. */
    private record Chunk(float[] values, int offset) {
    }

    /** Where {@link #build} gets the float32 values of rows {@code [first, first + count)}. */
    @FunctionalInterface
    private interface ChunkSource {
        Chunk rows(int first, int count);
    }

    private static WeightMatrix build(WeightFormat format, int rows, int cols, int maxSlabBytes, Storage storage,
                                      int chunkValues, ChunkSource source) {
        WeightSlabs slabs = storage.slabsFor(format);
        WeightMatrix m = new WeightMatrix(format, rows, cols, maxSlabBytes, slabs);
        if (slabs != null && slabs.prefilled()) {
            return m; // a weight cache's slabs: the rows are there already
        }
        // converted in chunks of rows on every core (a 8B model's load is mostly this conversion); each row is encoded
        // in the GGUF layout into the chunk's row buffer, then stored panel by panel
        inChunks(rows, Math.max(1, Math.min(rows, chunkValues / cols)), (first, count) -> {
            Chunk chunk = source.rows(first, count);
            ByteBuffer row = ByteBuffer.allocate(m.rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                BlockQuantizer.encode(format, chunk.values(), chunk.offset() + i * cols, cols, row, 0);
                m.putRow(first + i, row, 0);
            }
        });
        return m;
    }

    /** {@code rows} cut into runs of {@code chunkRows} ({@code first, count}), on every core when there are several. */
    static void inChunks(int rows, int chunkRows, java.util.function.BiConsumer<Integer, Integer> work) {
        int chunks = (rows + chunkRows - 1) / chunkRows;
        java.util.stream.IntStream range = java.util.stream.IntStream.range(0, chunks);
        (chunks > 1 ? range.parallel() : range).forEach(c -> {
            int first = c * chunkRows;
            work.accept(first, Math.min(chunkRows, rows - first));
        });
    }

    private static long checkShape(WeightFormat format, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("a weight matrix needs positive dimensions, got [" + rows + ", " + cols
                    + "]");
        }
        long rowBytes = format.rowBytes(cols);
        if (rowBytes > MAX_SLAB_BYTES) {
            throw new IllegalArgumentException("a row of " + cols + " weights is over " + MAX_SLAB_BYTES + " bytes");
        }
        return rowBytes * rows;
    }

    /** The storage format (of the first part of a {@link #stacked} matrix: {@link #formats()} names them all). */
    public WeightFormat format() {
        return format;
    }

    /** Output features. */
    public int rows() {
        return rows;
    }

    /** Input features. */
    public int cols() {
        return cols;
    }

    /** Bytes the weights occupy. */
    public long byteSize() {
        if (stack != null) {
            return stack.byteSize();
        }
        return (long) rowBytes * rows;
    }

    /** Whether the weights live off the Java heap, where only the native kernels read them ({@link Storage}). */
    public boolean offHeap() {
        return offHeap;
    }

    /**
     * Bytes of one row in the GGUF block layout ({@link #copyRow}).
     *
     * @throws IllegalStateException for a {@link #stacked} matrix, whose rows differ in size ({@link #parts})
     */
    public int rowBytes() {
        if (stack != null) {
            throw new IllegalStateException(this + ": its parts' rows differ in size; ask a part");
        }
        return rowBytes;
    }

    /**
     * Row {@code r} as float32 into {@code dst[offset...offset + cols)}: gathered in the GGUF layout into a per-thread
     * buffer and decoded by {@link BlockQuantizer} (an embedding lookup a token: no allocation once the buffer has
     * grown).
     */
    public void row(int r, float[] dst, int offset) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(offset, cols, dst.length);
        if (stack != null) {
            int i = stack.partOf(r);
            stack.part(i).row(r - stack.start(i), dst, offset);
            return;
        }
        ByteBuffer raw = ROW.get();
        if (raw.capacity() < rowBytes) {
            raw = ByteBuffer.allocate(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            ROW.set(raw);
        }
        gather(r, raw, 0);
        BlockQuantizer.decode(format, raw, 0, dst, offset, cols);
    }

    /** The per-thread buffer of {@link #row}. */
    private static final ThreadLocal<ByteBuffer> ROW = ThreadLocal.withInitial(() -> ByteBuffer.allocate(0));

    /** The weight at {@code [r, c]} as float32. */
    public float get(int r, int c) {
        Objects.checkIndex(c, cols);
        float[] row = new float[cols];
        row(r, row, 0);
        return row[c];
    }

    /** The whole matrix as row-major float32 (for tests and small matrices). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact((long) rows * cols)];
        for (int r = 0; r < rows; r++) {
            row(r, out, r * cols);
        }
        return out;
    }

    /**
     * As {@link #multiply}, by the plain kernel the current ones are measured against (JMH {@code KernelBenchmark} in
     * the benchmarks module); not for production use.
     */
    public void multiplyBaseline(float[] x, int n, float[] y, int from, int to) {
        if (stack != null) {
            throw new UnsupportedOperationException(this + ": the baseline kernel takes a matrix in one format");
        }
        requireRowLayout();
        WeightKernels.multiplyBaseline(this, x, n, y, from, to);
    }

    /**
     * Rows {@code [from, to)} of {@code y[c * rows + r] = sum_i W[r, i] * x[c * cols + i]} for every column
     * {@code c < n}: {@code x} is {@code [n, cols]} and {@code y} is {@code [n, rows]}, row-major float32. Rows
     * outside the range are left alone, so threads may share one product by row ranges.
     *
     * <p>Needs the Vector API ({@code --add-modules jdk.incubator.vector}).
     */
    public void multiply(float[] x, int n, float[] y, int from, int to) {
        if (stack == null) {
            requireRowLayout();
        }
        Objects.checkFromToIndex(from, to, rows);
        if ((long) n * cols > x.length || (long) n * rows > y.length) {
            throw new IllegalArgumentException("x holds " + x.length + " values and y " + y.length + ", " + n
                    + " columns need " + (long) n * cols + " and " + (long) n * rows);
        }
        if (stack != null) {
            stack.multiply(x, n, y, from, to);
            return;
        }
        WeightKernels.multiply(this, x, n, y, from, to);
    }

    /**
     * Repacks a Q4_0 matrix in place into the layout of the native interleaved kernels (rows in groups of 8, each
     * group's blocks side by side: {@link WeightPanel#interleave}), which multiply it with one conversion and two fmas
     * per block for 8 or 16 rows at a time, prefill and decode alike. The weights stay one copy: no byte is added.
     * After it only the native kernels multiply the matrix ({@link #multiply(float[], int, float[], int, int)} refuses
     * it); {@link #row}, {@link #copyRow} and {@link #get} read it as before. Call once at load, before the matrix is
     * shared between threads, and only where the native kernels will run its products.
     *
     * @return whether it was repacked: false for another format, or without the native library
     */
    public boolean interleaveForNativeKernels() {
        if (stack != null) {
            boolean any = false;
            for (WeightMatrix p : stack.parts()) {
                any |= p.interleaveForNativeKernels();
            }
            return any;
        }
        if (format != WeightFormat.Q4_0 || !NativeKernels.available() || interleaved()) {
            return false;
        }
        for (WeightPanel p : panels) {
            p.interleave();
        }
        return true;
    }

    /** Whether the rows are in the native kernels' interleaved Q4_0 layout ({@link #interleaveForNativeKernels}). */
    public boolean interleaved() {
        if (stack != null) {
            return stack.parts().stream().anyMatch(WeightMatrix::interleaved);
        }
        return panels[0].interleaved();
    }

    private void requireRowLayout() {
        if (format == WeightFormat.Q5_0) {
            throw new IllegalStateException(this + ": only the native kernels multiply Q5_0 (the Java kernels take it "
                    + "converted to Q8_0)");
        }
        if (offHeap) {
            throw new IllegalStateException(this + " lives off the Java heap for the native kernels: the Java kernels "
                    + "read heap arrays (multiply it with multiply(QuantizedInput, ...))");
        }
        if (interleaved()) {
            throw new IllegalStateException(this + " is interleaved for the native kernels: the Java kernels read "
                    + "the row layout (multiply it with multiply(QuantizedInput, ...))");
        }
    }

    /**
     * Whether {@link #multiply(QuantizedInput, float[], int, int)} can multiply {@code n} columns with the native
     * kernels: the library is loaded, the format is one they take ({@link NativeKernels#supports}: Q8_0, Q4_0, Q5_0,
     * F32, F16, BF16, Q4_K, Q5_K, Q6_K; every part's, for a {@link #stacked} matrix) and {@code n} is at least 1.
     * Any number of columns: the kernels tile them (pairs of columns over blocks of rows, or from 16 columns tiles of
     * rows x columns with AVX-512), and every column's result is bit for bit the one it gets alone,
     * whatever the columns beside it and whatever the row range.
     */
    public boolean nativeProduct(int n) {
        if (stack != null) {
            return stack.parts().stream().allMatch(p -> p.nativeProduct(n));
        }
        return n >= 1 && NativeKernels.supports(format) && NativeKernels.available();
    }

    private boolean float16() {
        return format == WeightFormat.F16 || format == WeightFormat.BF16;
    }

    /**
     * {@code x} ({@code [n, cols]} row-major float32) quantized per block of 32 (of 256 with 16-quant sums for the
     * K-quants) into {@code into} for
     * {@link #multiply(QuantizedInput, float[], int, int)}: once per product, before its row ranges run.
     *
     * @throws IllegalStateException    without the native library
     * @throws IllegalArgumentException if {@code x} is too short
     */
    public void quantize(float[] x, int n, QuantizedInput into) {
        requireNative(n);
        if ((long) n * cols > x.length) {
            throw new IllegalArgumentException("x holds " + x.length + " values, " + n + " columns need "
                    + (long) n * cols);
        }
        if (stack != null) {
            stack.quantize(x, n, into);
            return;
        }
        if (format == WeightFormat.F32) {
            // F32: the activations stay float32 (copied)
            into.ensureFloats(n, cols, false);
            System.arraycopy(x, 0, into.floats, 0, n * cols);
            return;
        }
        if (float16()) {
            // F16/BF16: the activations stay float32 (copied), rounded to bf16 where BF16 uses vdpbf16ps
            boolean round = format == WeightFormat.BF16 && NativeFloat16Kernels.bf16Dot();
            into.ensureFloats(n, cols, round);
            System.arraycopy(x, 0, into.floats, 0, n * cols);
            if (round) {
                NativeFloat16Kernels.toBf16(x, n * cols, into.bf16);
            }
            return;
        }
        if (format.superBlocks()) {
            into.ensureSuperBlocks(n, cols);
            KQuantKernels.quantize(x, n * cols, into.quants, into.scales, into.partSums);
            return;
        }
        into.ensure(n, cols);
        NativeKernels.quantize(x, n * cols, into.quants, into.scales, into.sums);
    }

    /**
     * As {@link #multiply(float[], int, float[], int, int)} with the native kernels, on activations quantized by
     * {@link #quantize} (their error: {@link QuantizedInput}); threads may share one product by row ranges.
     *
     * @throws IllegalStateException    without the native library, or for a format or column count it does not take
     * @throws IllegalArgumentException if {@code q} was quantized for another width or {@code y} is too short
     */
    public void multiply(QuantizedInput q, float[] y, int from, int to) {
        if (stack != null) {
            requireNative(q.columns);
            Objects.checkFromToIndex(from, to, rows);
            if ((long) q.columns * rows > y.length) {
                throw new IllegalArgumentException("y holds " + y.length + " values, " + q.columns + " columns need "
                        + (long) q.columns * rows);
            }
            stack.multiply(q, y, from, to);
            return;
        }
        multiplyRows(q, y, from, to, 0, rows);
    }

    /**
     * {@link #multiply(QuantizedInput, float[], int, int)} with row {@code r} of column {@code c} at
     * {@code y[c * yRows + yBase + r]}: this matrix as rows {@code [yBase, yBase + rows)} of a taller product
     * ({@link #stacked}).
     */
    void multiplyRows(QuantizedInput q, float[] y, int from, int to, int yBase, int yRows) {
        int n = q.columns;
        requireNative(n);
        Objects.checkFromToIndex(from, to, rows);
        if (q.cols != cols || (long) (n - 1) * yRows + yBase + rows > y.length
                || q.block != format.blockWeights()) {
            throw new IllegalArgumentException("input prepared for " + q.cols + " columns in blocks of " + q.block
                    + " (matrix: " + cols + ", " + format + ": quantize it for this matrix), y holds " + y.length + " values, " + n
                    + " columns need " + (long) n * rows);
        }
        if (format.superBlocks()) {
            multiplySuperBlocks(q, y, from, to, yBase, yRows);
            return;
        }
        if (format == WeightFormat.Q5_0) {
            multiplyQ50(q, y, from, to, yBase, yRows);
            return;
        }
        for (int j = 0; j < panels.length; j++) {
            WeightPanel p = panels[j];
            for (int r = from; r < to; ) {
                // a run of rows within one slab; the library tiles the columns
                int end = Math.min(to, (r / p.rowsPerSlab + 1) * p.rowsPerSlab);
                nativeRun(p, j > 0, q, n, y, r, end, yBase, yRows);
                r = end;
            }
        }
        // the slabs off the heap stay mapped until the kernels have returned
        java.lang.ref.Reference.reachabilityFence(this);
    }

    /**
     * Rows {@code [r, end)} of panel {@code p} (in one slab) times the {@code n} columns of {@code q}. Each format has
     * two entries into the library with the same arguments but the weights: a heap array and offset ({@code product}),
     * or, for slabs off the heap, an address ({@code productAt}).
     */
    private void nativeRun(WeightPanel p, boolean add, QuantizedInput q, int n, float[] y, int r, int end, int yBase,
                           int yRows) {
        int count = end - r;
        if (format == WeightFormat.F32) {
            if (offHeap) {
                NativeFloat32Kernels.productAt(p.address(r), count, p.cols, q.floats, p.first, cols, n, y,
                        yBase + r, yRows, add);
            } else {
                NativeFloat32Kernels.product(p.data(r), p.offset(r), count, p.cols, q.floats, p.first, cols, n, y,
                        yBase + r, yRows, add);
            }
        } else if (float16()) {
            boolean bf = format == WeightFormat.BF16;
            short[] bf16 = bf && q.rounded ? q.bf16 : null;
            if (offHeap) {
                NativeFloat16Kernels.productAt(bf, p.address(r), count, p.cols, q.floats, bf16, p.first, cols, n, y,
                        yBase + r, yRows, add);
            } else {
                NativeFloat16Kernels.product(bf, p.data(r), p.offset(r), count, p.cols, q.floats, bf16, p.first, cols,
                        n, y, yBase + r, yRows, add);
            }
        } else {
            int firstBlock = p.first / WeightFormat.BLOCK;
            int colBlocks = cols / WeightFormat.BLOCK;
            if (p.interleaved()) {
                int inSlab = r % p.rowsPerSlab;
                if (offHeap) {
                    NativeKernels.productInterleavedAt(p.slabAddress(r), p.scaleSlabAddress(r), p.slabRows(r), inSlab,
                            count, p.blocks, q.quants, q.scales, q.sums, firstBlock, colBlocks, n, y, yBase + r, yRows,
                            add);
                } else {
                    NativeKernels.productInterleaved(p.data(r), p.scales(r), p.slabRows(r), inSlab, count, p.blocks,
                            q.quants, q.scales, q.sums, firstBlock, colBlocks, n, y, yBase + r, yRows,
                            add);
                }
            } else {
                boolean q4 = format == WeightFormat.Q4_0;
                if (offHeap) {
                    NativeKernels.productAt(q4, p.address(r), p.scaleAddress(r), count, p.blocks, q.quants, q.scales,
                            q.sums, firstBlock, colBlocks, n, y, yBase + r, yRows, add);
                } else {
                    NativeKernels.product(q4, p.data(r), p.offset(r), p.scales(r), p.scaleOffset(r), count, p.blocks,
                            q.quants, q.scales, q.sums, firstBlock, colBlocks, n, y, yBase + r, yRows,
                            add);
                }
            }
        }
    }

    /** The K-quant product: one panel (never split), slab by slab. */
    private void multiplySuperBlocks(QuantizedInput q, float[] y, int from, int to, int yBase, int yRows) {
        WeightPanel p = panels[0];
        int code = KQuantKernels.code(format);
        int colBlocks = cols / WeightFormat.SUPER_BLOCK;
        for (int r = from; r < to; ) {
            int end = Math.min(to, (r / p.rowsPerSlab + 1) * p.rowsPerSlab);
            if (offHeap) {
                KQuantKernels.productAt(code, p.address(r), end - r, p.blocks, q.quants, q.scales, q.partSums,
                        colBlocks, q.columns, y, yBase + r, yRows, false);
            } else {
                KQuantKernels.product(code, p.data(r), p.offset(r), end - r, p.blocks, q.quants, q.scales, q.partSums,
                        colBlocks, q.columns, y, yBase + r, yRows, false);
            }
            r = end;
        }
        java.lang.ref.Reference.reachabilityFence(this);
    }

    /** The Q5_0 product: one panel (never split), slab by slab. */
    private void multiplyQ50(QuantizedInput q, float[] y, int from, int to, int yBase, int yRows) {
        WeightPanel p = panels[0];
        int colBlocks = cols / WeightFormat.BLOCK;
        for (int r = from; r < to; ) {
            int end = Math.min(to, (r / p.rowsPerSlab + 1) * p.rowsPerSlab);
            if (offHeap) {
                Q50Kernels.productAt(p.address(r), end - r, p.blocks, q.quants, q.scales, colBlocks, q.columns, y,
                        yBase + r, yRows, false);
            } else {
                Q50Kernels.product(p.data(r), p.offset(r), end - r, p.blocks, q.quants, q.scales, colBlocks,
                        q.columns, y, yBase + r, yRows, false);
            }
            r = end;
        }
        java.lang.ref.Reference.reachabilityFence(this);
    }

    private void requireNative(int n) {
        if (!nativeProduct(n)) {
            throw new IllegalStateException("the native kernels cannot multiply " + n + " column(s) of " + format
                    + (NativeKernels.available()
                    ? " (Q8_0, Q4_0, Q5_0, F32, F16, BF16 and the K-quants, 1 column or more)"
                    : ": " + NativeKernels.unavailableReason()));
        }
    }

    /** The column panels, left to right. */
    WeightPanel[] panels() {
        return panels;
    }

    @Override
    public String toString() {
        if (stack != null) {
            return "WeightMatrix[stacked " + stack + ", " + rows + " x " + cols + ", " + byteSize() + " bytes]";
        }
        return "WeightMatrix[" + format + ", " + rows + " x " + cols + ", " + byteSize() + " bytes]";
    }
}
