package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.checkpoint.TensorStores;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a GGUF model under the Hugging Face names and layouts the model code reads, so that
 * {@link io.github.amulet4j.djl.model.DjlCausalLm} loads a GGUF file as it loads safetensors. Values are decoded to
 * float32 by {@link GgmlBlocks} read from the file (F32/F16/BF16 exactly; quantized types with ggml's
 * dequantization formulas), then:
 * <ul>
 *   <li>the q and k projections of a {@code llama} model get their rows back in Hugging Face's order: llama.cpp's
 *       converter permutes them, within each head, from {@code [half, pair]} to {@code [pair, half]} for its
 *       interleaved rotary layout;</li>
 *   <li>GPT-2's four projection weights are transposed back to Conv1D's {@code [in, out]};</li>
 *   <li>Gemma's norm weights, which llama.cpp stores as {@code 1 + w}, are read as {@code w}.</li>
 * </ul>
 * Tensors the model does not read (such as {@code rope_freqs.weight}) are not listed.
 */
public final class GgufTensorStore implements TensorStore {

    /**
     * Bytes read from the file at once (whole rows; at least one row). Read, not memory-mapped: a mapping stays
     * resident until a garbage collection unmaps it (1.3 GB of a 2.5 GB checkpoint after loading, measured).
     */
    private static final long READ_BYTES = 1L << 20;

    private final GgufFile file;
    private final ModelConfig config;
    private final boolean closeFile;
    private final Map<String, GgufTensorInfo> byHfName;

    private GgufTensorStore(GgufFile file, ModelConfig config, boolean closeFile) {
        this.file = file;
        this.config = config;
        this.closeFile = closeFile;
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : file.tensors().values()) {
            String hf = GgufTensorNames.toHf(t.name(), config);
            if (hf != null) {
                m.put(hf, t);
            }
        }
        this.byHfName = Collections.unmodifiableMap(m);
    }

    /** A store over an open file with the configuration read from it; closing the store leaves the file open. */
    public static GgufTensorStore of(GgufFile file, ModelConfig config) {
        return new GgufTensorStore(file, config, false);
    }

    /** Opens a GGUF file as a store (closing the store closes the file). */
    public static GgufTensorStore open(java.nio.file.Path path) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            return new GgufTensorStore(f, GgufModelConfig.read(f), true);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The configuration the names and layouts follow. */
    public ModelConfig config() {
        return config;
    }

    /** The GGUF name a Hugging Face name is read from. */
    public String ggufName(String hfName) {
        return require(hfName).name();
    }

    @Override
    public Set<String> names() {
        return byHfName.keySet();
    }

    @Override
    public long[] shape(String name) {
        GgufTensorInfo t = require(name);
        long[] s = t.shape();
        if (config.isGpt2() && GgufTensorNames.isGpt2Conv1d(t.name())) {
            return new long[] {s[1], s[0]};
        }
        return s;
    }

    @Override
    public String dtype(String name) {
        return require(name).type().name();
    }

    @Override
    public float[] readFloat32(String name) {
        GgufTensorInfo t = require(name);
        float[] v;
        try {
            v = decodeAll(file, t);
        } catch (IOException e) {
            throw new UncheckedIOException(file.path() + ": reading tensor '" + t.name() + "'", e);
        }
        if (config.isGpt2() && GgufTensorNames.isGpt2Conv1d(t.name())) {
            return transpose(v, (int) t.rows(), (int) t.ne()[0]);
        }
        if ("LlamaForCausalLM".equals(config.architecture()) && GgufTensorNames.isPermutedQk(t.name())) {
            int heads = t.name().contains("attn_q.") ? config.numHeads() : config.numKvHeads();
            boolean vector = t.ne().length == 1;
            return unpermute(v, heads, vector ? (int) t.ne()[0] : (int) t.rows(), vector ? 1 : (int) t.ne()[0], t);
        }
        if (config.isGemma() && GgufTensorNames.isGemmaNorm(t.name())) {
            // llama.cpp stores Gemma's norms as 1 + w; the Hugging Face weight is w
            for (int i = 0; i < v.length; i++) {
                v[i] -= 1f;
            }
        }
        return v;
    }

    /**
     * Reads only the asked rows' bytes for a matrix stored as it is read, and for Llama's permuted q/k (each row from
     * where the permutation put it); a matrix that loading transposes (GPT-2's Conv1D) is decoded whole once and served
     * from that copy while its rows are read.
     */
    @Override
    public void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        GgufTensorInfo t = require(name);
        long[] shape = shape(name);
        if (shape.length == 2 && permutedQk(t) && t.type().decodable()) {
            // row by row: decoding the whole q/k for every chunk of rows (two threads read q and k at once, and a
            // one-tensor cache missed) decoded an 8B model's q/k 200 times over, 35 GB of garbage
            TensorStores.rowLength(name, shape, firstRow, rowCount);
            long d = t.rows() / qkHeads(t);
            int cols = (int) t.ne()[0];
            try {
                for (int i = 0; i < rowCount; i++) {
                    decodeRows(file, t, permutedRow(firstRow + i, d), 1, dst, dstOffset + i * cols);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(file.path() + ": reading tensor '" + t.name() + "'", e);
            }
            return;
        }
        if (shape.length != 2 || rearranged(t) || !t.type().decodable()) {
            float[] all;
            synchronized (this) {
                if (!name.equals(wholeName)) {
                    wholeName = null;
                    whole = readFloat32(name);
                    wholeName = name;
                }
                all = whole;
            }
            long rowLength = TensorStores.rowLength(name, shape, firstRow, rowCount);
            System.arraycopy(all, Math.toIntExact(firstRow * rowLength), dst, dstOffset,
                    Math.toIntExact(rowCount * rowLength));
            return;
        }
        TensorStores.rowLength(name, shape, firstRow, rowCount);
        try {
            decodeRows(file, t, firstRow, rowCount, dst, dstOffset);
        } catch (IOException e) {
            throw new UncheckedIOException(file.path() + ": reading tensor '" + t.name() + "'", e);
        }
    }

    /**
     * A matrix whose rows can be read as stored: two dimensions, not GPT-2's transposed Conv1D; Llama's permuted q/k
     * rows are read row by row in the un-permuted order.
     */
    @Override
    public boolean hasRawRows(String name) {
        GgufTensorInfo t = byHfName.get(name);
        return t != null && t.ne().length == 2 && !(config.isGpt2() && GgufTensorNames.isGpt2Conv1d(t.name()));
    }

    @Override
    public void readRawRows(String name, long firstRow, int rowCount, ByteBuffer dst) {
        GgufTensorInfo t = require(name);
        if (!hasRawRows(name)) {
            throw new UnsupportedOperationException(file.path() + ": tensor '" + t.name() + "' is transposed on "
                    + "loading; read its rows as float32");
        }
        TensorStores.rowLength(name, shape(name), firstRow, rowCount);
        long rowBytes = t.type().byteSize(t.ne()[0]);
        if (rowCount * rowBytes > dst.remaining()) {
            throw new IllegalArgumentException("rows " + firstRow + "+" + rowCount + " of tensor '" + name + "' are "
                    + rowCount * rowBytes + " bytes, the buffer has room for " + dst.remaining());
        }
        try {
            if (rearranged(t)) {
                long d = t.rows() / qkHeads(t);
                for (int i = 0; i < rowCount; i++) {
                    readBytes(t, permutedRow(firstRow + i, d) * rowBytes, (int) rowBytes, dst);
                }
            } else {
                readBytes(t, firstRow * rowBytes, (int) (rowCount * rowBytes), dst);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file.path() + ": reading tensor '" + t.name() + "'", e);
        }
    }

    /** {@code length} bytes of tensor {@code t} from {@code start} into {@code dst} at its position, advancing it. */
    private void readBytes(GgufTensorInfo t, long start, int length, ByteBuffer dst) throws IOException {
        int limit = dst.limit();
        dst.limit(dst.position() + length);
        try {
            file.readInto(t, start, dst);
        } finally {
            dst.limit(limit);
        }
    }

    /** The last tensor decoded whole for {@link #readRows} (one at a time: loading reads tensor after tensor). */
    private String wholeName;
    private float[] whole;

    private boolean rearranged(GgufTensorInfo t) {
        return config.isGpt2() && GgufTensorNames.isGpt2Conv1d(t.name()) || permutedQk(t);
    }

    /** Llama's q/k, whose rows llama.cpp's converter permuted. */
    private boolean permutedQk(GgufTensorInfo t) {
        return "LlamaForCausalLM".equals(config.architecture()) && GgufTensorNames.isPermutedQk(t.name());
    }

    /** The heads of a permuted q or k. */
    private int qkHeads(GgufTensorInfo t) {
        return t.name().contains("attn_q.") ? config.numHeads() : config.numKvHeads();
    }

    /**
     * The GGUF row that holds Hugging Face row {@code row} of a permuted q/k with heads of {@code d} rows: row
     * {@code h*d + p*d/2 + j} is stored at {@code h*d + 2j + p} (see {@link #unpermute}).
     */
    private static long permutedRow(long row, long d) {
        long rem = row % d;
        return row - rem + 2 * (rem % (d / 2)) + rem / (d / 2);
    }

    /** Every value of a tensor as float32, read from the file a few rows at a time. */
    public static float[] decodeAll(GgufFile file, GgufTensorInfo t) throws IOException {
        if (!t.type().decodable()) {
            throw new GgufFormatException(file.path() + ": tensor '" + t.name() + "' is stored as " + t.type()
                    + ", which this library does not read; supported: " + GgmlBlocks.decodedTypes());
        }
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(file.path() + ": tensor '" + t.name() + "' has " + n
                    + " values, more than a Java array holds");
        }
        float[] out = new float[(int) n];
        decodeRows(file, t, 0, t.rows(), out, 0);
        return out;
    }

    /**
     * Rows {@code [firstRow, firstRow + rows)} of a tensor (rows of {@code ne[0]} values) decoded into {@code out},
     * read from the file {@value #READ_BYTES} bytes or one row at a time.
     */
    private static void decodeRows(GgufFile file, GgufTensorInfo t, long firstRow, long rows, float[] out,
                                   int outOffset) throws IOException {
        long rowValues = t.ne()[0];
        long rowBytes = t.type().byteSize(rowValues);
        long rowsPerChunk = Math.max(1, READ_BYTES / rowBytes);
        for (long r = 0; r < rows; r += rowsPerChunk) {
            long count = Math.min(rowsPerChunk, rows - r);
            ByteBuffer b = readBuffer((int) (count * rowBytes));
            file.readInto(t, (firstRow + r) * rowBytes, b);
            GgmlBlocks.decode(t.type(), b.flip(), 0, out, (int) (outOffset + r * rowValues), (int) (count * rowValues));
        }
    }

    /**
     * This thread's read buffer, cleared, with room for {@code bytes}: loading converts a model's tensors a MiB at a time
     * on every core, and a new buffer for each MiB was garbage as large as the tensors converted (an 8B Q4_K_M file's
     * mixed q/k/v: the old generation filled with it between full collections, 2.4 GiB of resident memory).
     */
    private static ByteBuffer readBuffer(int bytes) {
        ByteBuffer b = READ_BUFFER.get();
        if (b.capacity() < bytes) {
            b = ByteBuffer.allocate(Math.max(bytes, (int) READ_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            READ_BUFFER.set(b);
        }
        return b.clear().limit(bytes);
    }

    private static final ThreadLocal<ByteBuffer> READ_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocate(0));

    /**
     * Undoes llama.cpp's q/k permutation: GGUF row {@code h*d + 2j + p} holds Hugging Face row
     * {@code h*d + p*d/2 + j} (head h of size d, pair j, half p).
     */
    static float[] unpermute(float[] v, int heads, int rows, int cols, GgufTensorInfo t) {
        if (rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new GgufFormatException("tensor '" + t.name() + "' has " + rows + " rows, not " + heads
                    + " heads of an even size");
        }
        int d = rows / heads;
        float[] out = new float[v.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < d / 2; j++) {
                for (int p = 0; p < 2; p++) {
                    int from = h * d + 2 * j + p;
                    int to = h * d + p * (d / 2) + j;
                    System.arraycopy(v, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    /** Applies llama.cpp's q/k permutation (the inverse of {@link #unpermute}), for writers. */
    public static float[] permute(float[] v, int heads, int rows, int cols) {
        int d = rows / heads;
        float[] out = new float[v.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < d / 2; j++) {
                for (int p = 0; p < 2; p++) {
                    System.arraycopy(v, (h * d + p * (d / 2) + j) * cols, out, (h * d + 2 * j + p) * cols, cols);
                }
            }
        }
        return out;
    }

    /** A row-major {@code [rows, cols]} matrix transposed. */
    static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }

    private GgufTensorInfo require(String name) {
        GgufTensorInfo t = byHfName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' (GGUF name '"
                    + safeGgufName(name) + "') in " + file.path());
        }
        return t;
    }

    private String safeGgufName(String hf) {
        try {
            return GgufTensorNames.toGguf(hf, config);
        } catch (IllegalArgumentException e) {
            return "?";
        }
    }

    @Override
    public java.util.List<java.nio.file.Path> files() {
        return java.util.List.of(file.path());
    }

    @Override
    public void close() {
        synchronized (this) {
            wholeName = null;
            whole = null;
        }
        if (closeFile) {
            try {
                file.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
