package io.github.amulet4j.formats.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the tensor data.
 * The header is read and validated on {@link #open}; tensor data is memory-mapped when read (in chunks of at
 * most {@value #MAX_CHUNK_BYTES} bytes, so files and tensors beyond 2 GB work) and converted to float32 in Java.
 */
public final class SafetensorsFile implements TensorStore {

    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsFile.class);

    /** The safetensors format's own limit on the header size. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Largest region a caller may ask to read at once ({@link #open(Path, int)}). */
    static final int MAX_CHUNK_BYTES = 1 << 30;

    /**
     * Bytes read from the file at once. Read, not memory-mapped: a mapping stays resident until a garbage collection
     * unmaps it (1.3 GB of a 2.5 GB checkpoint after loading, measured), and unmapping it at once needs
     * {@code sun.misc.Unsafe}, which JDK 24 and later warn about.
     */
    private static final int READ_BYTES = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final int chunkBytes;

    private record Entry(SafetensorsDtype dtype, long[] shape, long begin, long end, long numel) {
    }

    private SafetensorsFile(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata, int chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens a safetensors file and validates its header.
     *
     * @throws CheckpointException naming the file (and tensor/field) when the file is missing, truncated or corrupt
     * @throws IOException         when the file cannot be read
     */
    public static SafetensorsFile open(Path file) throws IOException {
        return open(file, MAX_CHUNK_BYTES);
    }

    /** Opens with a given mapping chunk size (tests use small chunks to exercise the chunked path). */
    static SafetensorsFile open(Path file, int chunkBytes) throws IOException {
        if (chunkBytes < 8 || chunkBytes > MAX_CHUNK_BYTES) {
            throw new IllegalArgumentException("chunkBytes must be 8.." + MAX_CHUNK_BYTES + ", got " + chunkBytes);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("safetensors file not found: " + file);
        }
        try {
            SafetensorsFile f = parse(file, ch, chunkBytes);
            LOG.debug("opened {} ({} tensors)", file, f.entries.size());
            return f;
        } catch (RuntimeException | IOException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel ch, int chunkBytes) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new CheckpointException(file + ": truncated safetensors file (" + size
                    + " bytes; expected at least the 8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw new CheckpointException(file + ": corrupt safetensors header length " + Long.toUnsignedString(headerLen)
                    + " (expected 2.." + MAX_HEADER_BYTES + " bytes); is this a safetensors file?");
        }
        if (8 + headerLen > size) {
            throw new CheckpointException(file + ": truncated safetensors file: header length " + headerLen
                    + " goes beyond the file size " + size);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        String json = new String(hb.array(), StandardCharsets.UTF_8);
        JsonObject header;
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) {
                throw new CheckpointException(file + ": safetensors header is not a JSON object");
            }
            header = el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new CheckpointException(file + ": safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if ("__metadata__".equals(name)) {
                if (e.getValue().isJsonObject()) {
                    for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                        metadata.put(m.getKey(), m.getValue().isJsonPrimitive()
                                ? m.getValue().getAsString() : m.getValue().toString());
                    }
                }
                continue;
            }
            entries.put(name, parseEntry(file, name, e.getValue(), dataLen));
        }
        checkNoOverlap(file, entries);
        return new SafetensorsFile(file, ch, dataStart, Collections.unmodifiableMap(entries),
                Collections.unmodifiableMap(metadata), chunkBytes);
    }

    private static Entry parseEntry(Path file, String name, JsonElement value, long dataLen) {
        String where = file + ": tensor '" + name + "'";
        if (!value.isJsonObject()) {
            throw new CheckpointException(where + ": expected an object with dtype, shape and data_offsets");
        }
        JsonObject o = value.getAsJsonObject();
        JsonElement dt = o.get("dtype");
        if (dt == null || !dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
            throw new CheckpointException(where + ": missing or non-string field 'dtype'");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dt.getAsString());
        if (dtype == null) {
            throw new CheckpointException(where + ": unsupported dtype '" + dt.getAsString()
                    + "' (supported: " + Arrays.toString(SafetensorsDtype.values()) + ")");
        }
        long[] shape = longArray(o.get("shape"), where, "shape", -1);
        long[] offsets = longArray(o.get("data_offsets"), where, "data_offsets", 2);
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new CheckpointException(where + ": negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException overflow) {
                throw new CheckpointException(where + ": shape " + Arrays.toString(shape)
                        + " has more elements than a 64-bit count holds; the file is corrupt or crafted");
            }
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new CheckpointException(where + ": invalid data_offsets " + Arrays.toString(offsets));
        }
        if (end > dataLen) {
            throw new CheckpointException(where + ": data_offsets " + Arrays.toString(offsets)
                    + " go beyond the data section (" + dataLen + " bytes); the file is truncated or corrupt");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(where + ": shape " + Arrays.toString(shape) + " x " + dtype
                    + " needs more bytes than a 64-bit size holds; the file is corrupt or crafted");
        }
        if (end - begin != expected) {
            throw new CheckpointException(where + ": data_offsets " + Arrays.toString(offsets) + " span "
                    + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " x " + dtype
                    + " needs " + expected);
        }
        return new Entry(dtype, shape, begin, end, numel);
    }

    private static void checkNoOverlap(Path file, Map<String, Entry> entries) {
        List<Map.Entry<String, Entry>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        for (int i = 1; i < sorted.size(); i++) {
            Map.Entry<String, Entry> a = sorted.get(i - 1);
            Map.Entry<String, Entry> b = sorted.get(i);
            if (b.getValue().begin() < a.getValue().end()) {
                throw new CheckpointException(file + ": tensors '" + a.getKey() + "' and '" + b.getKey()
                        + "' have overlapping data_offsets; the header is corrupt");
            }
        }
    }

    private static long[] longArray(JsonElement el, String where, String field, int expectedLength) {
        if (el == null || !el.isJsonArray()) {
            throw new CheckpointException(where + ": missing or non-array field '" + field + "'");
        }
        JsonArray a = el.getAsJsonArray();
        if (expectedLength >= 0 && a.size() != expectedLength) {
            throw new CheckpointException(where + ": field '" + field + "' must have " + expectedLength
                    + " entries, has " + a.size());
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement x = a.get(i);
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                throw new CheckpointException(where + ": field '" + field + "' must hold integers, found " + x);
            }
            try {
                out[i] = x.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
            } catch (ArithmeticException e) {
                throw new CheckpointException(where + ": field '" + field + "' must hold integers, found " + x);
            }
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** The file this store reads. */
    @Override
    public java.util.List<Path> files() {
        return java.util.List.of(file);
    }

    public Path file() {
        return file;
    }

    /** The {@code __metadata__} map of the header (string values), possibly empty. */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    @Override
    public String dtype(String name) {
        return entry(name).dtype().name();
    }

    /** Stored dtype of a tensor as an enum. */
    public SafetensorsDtype storedDtype(String name) {
        return entry(name).dtype();
    }

    @Override
    public float[] readFloat32(String name) {
        Entry e = entry(name);
        if (e.numel() > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file + ": tensor '" + name + "' has " + e.numel()
                    + " elements, more than a Java array holds");
        }
        float[] out = new float[(int) e.numel()];
        decode(name, e, 0, e.numel(), out, 0);
        return out;
    }

    @Override
    public void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        Entry e = entry(name);
        long rowLength = TensorStores.rowLength(name, e.shape(), firstRow, rowCount);
        decode(name, e, firstRow * rowLength, rowCount * rowLength, dst, dstOffset);
    }

    @Override
    public boolean hasRawRows(String name) {
        Entry e = entries.get(name);
        return e != null && e.shape().length == 2;
    }

    @Override
    public void readRawRows(String name, long firstRow, int rowCount, ByteBuffer dst) {
        Entry e = entry(name);
        long rowLength = TensorStores.rowLength(name, e.shape(), firstRow, rowCount);
        long bytes = rowCount * rowLength * e.dtype().byteSize();
        if (bytes > dst.remaining()) {
            throw new IllegalArgumentException("rows " + firstRow + "+" + rowCount + " of tensor '" + name + "' are "
                    + bytes + " bytes, the buffer has room for " + dst.remaining());
        }
        ByteBuffer part = dst.slice().limit((int) bytes);
        try {
            readFully(channel, part, dataStart + e.begin() + firstRow * rowLength * e.dtype().byteSize());
        } catch (IOException ex) {
            throw new UncheckedIOException(file + ": cannot read tensor '" + name + "'", ex);
        }
        dst.position(dst.position() + (int) bytes);
    }

    /** Elements {@code [from, from + count)} of a tensor into {@code out}, read a region at a time. */
    private void decode(String name, Entry e, long from, long count, float[] out, int outOffset) {
        int elemSize = e.dtype().byteSize();
        long maxElems = Math.min(chunkBytes, READ_BYTES) / elemSize;
        ByteBuffer buf = ByteBuffer.allocate((int) (Math.min(maxElems, count) * elemSize)).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        try {
            while (done < count) {
                int n = (int) Math.min(maxElems, count - done);
                buf.clear().limit(n * elemSize);
                readFully(channel, buf, dataStart + e.begin() + (from + done) * elemSize);
                buf.flip();
                e.dtype().decode(buf, out, (int) (outOffset + done), n);
                done += n;
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(file + ": cannot read tensor '" + name + "'", ex);
        }
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in " + file);
        }
        return e;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing {}: {}", file, e.toString());
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + entries.size() + " tensors]";
    }
}
