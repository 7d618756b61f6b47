package io.github.amulet4j.djl.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A row-major weight matrix {@code [rows, cols]} in one {@link WeightFormat}, held in little-endian
 * {@link ByteBuffer}s: direct buffers when converted here ({@link #of}), or any buffer that already holds the raw
 * rows, such as a memory-mapped GGUF tensor ({@link #wrap}). Rows are kept whole in slabs of at most
 * {@value #MAX_SLAB_BYTES} bytes, so a matrix may exceed the 2 GiB of one buffer.
 *
 * <p>{@link #multiply} computes {@code y = x W^T} with the Java Vector API kernels (the JVM needs
 * {@code --add-modules jdk.incubator.vector}); {@link #row} and {@link #get} dequantize without it.
 * Immutable once built; safe to share between threads.
 */
public final class WeightMatrix {

    /** Most bytes in one slab. */
    public static final int MAX_SLAB_BYTES = 1 << 30;

    private final WeightFormat format;
    private final int rows;
    private final int cols;
    private final int rowBytes;
    private final int rowsPerSlab;
    private final ByteBuffer[] slabs;

    private WeightMatrix(WeightFormat format, int rows, int cols, ByteBuffer[] slabs, int rowsPerSlab) {
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = Math.toIntExact(format.rowBytes(cols));
        this.slabs = slabs;
        this.rowsPerSlab = rowsPerSlab;
    }

    /**
     * A matrix over the raw rows in {@code data} from its position to its limit (not copied; the buffer's position,
     * limit and order are left alone), e.g. a tensor of a memory-mapped GGUF file.
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
        ByteBuffer slab = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        return new WeightMatrix(format, rows, cols, new ByteBuffer[] {slab}, rows);
    }

    /**
     * {@code values} ({@code [rows, cols]} row-major float32) converted to {@code format} in newly allocated
     * direct memory (see {@link BlockQuantizer} for the rounding and its error bounds).
     *
     * @throws IllegalArgumentException for a wrong length, rows that are not whole blocks, or values the format
     *                                  cannot hold (non-finite; beyond the F16 range)
     * @throws IllegalStateException    when the JVM refuses the direct memory, naming the option to raise
     */
    public static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols) {
        return of(format, values, rows, cols, MAX_SLAB_BYTES);
    }

    /** {@link #of(WeightFormat, float[], int, int)} with slabs of at most {@code maxSlabBytes} (whole rows). */
    static WeightMatrix of(WeightFormat format, float[] values, int rows, int cols, int maxSlabBytes) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(values, "values");
        checkShape(format, rows, cols);
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException(values.length + " values for [" + rows + ", " + cols + "]");
        }
        // the values are already in memory: chunks of about a million of them
        return build(format, rows, cols, maxSlabBytes, 1 << 20, (first, count) -> new Chunk(values, first * cols));
    }

    /**
     * Supplies the rows of a matrix as float32, a few at a time, for {@link #of(WeightFormat, int, int, RowReader)}.
     * Called from several threads at once for different rows.
     */
    @FunctionalInterface
    public interface RowReader {
        /** Writes rows {@code [firstRow, firstRow + rowCount)} row-major into {@code dst} from index 0. */
        void read(int firstRow, int rowCount, float[] dst);
    }

    /**
     * A matrix converted to {@code format} from rows that {@code reader} supplies chunk by chunk (at most
     * {@value #READ_CHUNK_VALUES} values at a time), so that no float32 copy of the whole matrix is ever held: loading a
     * checkpoint this way needs the weights' own bytes and a few MiB beside them.
     *
     * @throws IllegalArgumentException as {@link #of(WeightFormat, float[], int, int)}
     * @throws IllegalStateException    when the JVM refuses the direct memory, naming the option to raise
     */
    public static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader) {
        return of(format, rows, cols, reader, MAX_SLAB_BYTES);
    }

    /** {@link #of(WeightFormat, int, int, RowReader)} with slabs of at most {@code maxSlabBytes} (whole rows). */
    static WeightMatrix of(WeightFormat format, int rows, int cols, RowReader reader, int maxSlabBytes) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(reader, "reader");
        checkShape(format, rows, cols);
        return build(format, rows, cols, maxSlabBytes, READ_CHUNK_VALUES, (first, count) -> {
            float[] values = new float[count * cols];
            reader.read(first, count, values);
            return new Chunk(values, 0);
        });
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

    private static WeightMatrix build(WeightFormat format, int rows, int cols, int maxSlabBytes, int chunkValues,
                                      ChunkSource source) {
        int rowBytes = Math.toIntExact(format.rowBytes(cols));
        int perSlab = Math.max(1, Math.min(rows, maxSlabBytes / rowBytes));
        int n = (rows + perSlab - 1) / perSlab;
        ByteBuffer[] slabs = new ByteBuffer[n];
        for (int s = 0; s < n; s++) {
            slabs[s] = allocate((long) Math.min(perSlab, rows - s * perSlab) * rowBytes);
        }
        // converted in chunks of rows on every core (a 8B model's load is mostly this conversion)
        int chunkRows = Math.max(1, Math.min(perSlab, chunkValues / cols));
        int chunks = (rows + chunkRows - 1) / chunkRows;
        java.util.stream.IntStream range = java.util.stream.IntStream.range(0, chunks);
        (chunks > 1 ? range.parallel() : range).forEach(c -> {
            int first = c * chunkRows;
            int count = Math.min(chunkRows, rows - first);
            Chunk chunk = source.rows(first, count);
            int slabIndex = first / perSlab;
            int inSlab = first % perSlab;
            // a chunk never crosses a slab: cut it at the slab's end (rare: only matrices over MAX_SLAB_BYTES)
            int n2 = Math.min(count, perSlab - inSlab);
            BlockQuantizer.encode(format, chunk.values(), chunk.offset(), n2 * cols, slabs[slabIndex], inSlab * rowBytes);
            if (n2 < count) {
                BlockQuantizer.encode(format, chunk.values(), chunk.offset() + n2 * cols, (count - n2) * cols,
                        slabs[slabIndex + 1], 0);
            }
        });
        return new WeightMatrix(format, rows, cols, slabs, perSlab);
    }

    private static ByteBuffer allocate(long bytes) {
        try {
            return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("cannot allocate " + (bytes >> 20) + " MiB of direct memory for weights ("
                    + e.getMessage() + "); start Java with a larger -XX:MaxDirectMemorySize (it defaults to -Xmx)", e);
        }
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

    /** The storage format. */
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
        return (long) rowBytes * rows;
    }

    /** Bytes of one row. */
    public int rowBytes() {
        return rowBytes;
    }

    /** Row {@code r} as float32 into {@code dst[offset...offset + cols)}. */
    public void row(int r, float[] dst, int offset) {
        Objects.checkIndex(r, rows);
        BlockQuantizer.decode(format, slab(r), offset(r), dst, offset, cols);
    }

    /** The weight at {@code [r, c]} as float32. */
    public float get(int r, int c) {
        Objects.checkIndex(c, cols);
        int bw = format.blockWeights();
        float[] block = new float[bw];
        Objects.checkIndex(r, rows);
        BlockQuantizer.decode(format, slab(r), offset(r) + c / bw * format.blockBytes(), block, 0, bw);
        return block[c % bw];
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
     * Rows {@code [from, to)} of {@code y[c * rows + r] = sum_i W[r, i] * x[c * cols + i]} for every column
     * {@code c < n}: {@code x} is {@code [n, cols]} and {@code y} is {@code [n, rows]}, row-major float32. Rows
     * outside the range are left alone, so threads may share one product by row ranges.
     *
     * <p>Needs the Vector API ({@code --add-modules jdk.incubator.vector}).
     */
    public void multiply(float[] x, int n, float[] y, int from, int to) {
        Objects.checkFromToIndex(from, to, rows);
        if ((long) n * cols > x.length || (long) n * rows > y.length) {
            throw new IllegalArgumentException("x holds " + x.length + " values and y " + y.length + ", " + n
                    + " columns need " + (long) n * cols + " and " + (long) n * rows);
        }
        WeightKernels.multiply(this, x, n, y, from, to);
    }

    /** The slab that holds row {@code r}. */
    ByteBuffer slab(int r) {
        return slabs[r / rowsPerSlab];
    }

    /** Byte offset of row {@code r} in its slab (absolute: from the slab's start). */
    int offset(int r) {
        return (r % rowsPerSlab) * rowBytes;
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + format + ", " + rows + " x " + cols + ", " + byteSize() + " bytes]";
    }
}
