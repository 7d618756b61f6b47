package io.github.amulet4j.formats.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GGUF file (format versions 2 and 3, little-endian), as llama.cpp, Ollama and LM Studio write them: the
 * magic {@code GGUF}, the version, the tensor and metadata counts, the metadata key-value pairs, the tensor
 * infos, then the tensor data from the first multiple of {@code general.alignment} (default
 * {@value #DEFAULT_ALIGNMENT}).
 *
 * <p>{@link #open} reads and validates the whole header and nothing else: every count, string length, array
 * length, dimension and offset is checked against the bytes left in the file before anything is allocated for
 * it, so a corrupt or hostile file is refused with a {@link GgufFormatException} that names the file and the
 * field, never with a giant allocation. Tensor data stays in the file: {@link #map} memory-maps it where it lies.
 *
 * <p>Not thread-safe for closing; reading tensor data from several threads is fine.
 */
public final class GgufFile implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GgufFile.class);

    /** The magic, as a little-endian u32 of the bytes {@code G G U F}. */
    public static final int MAGIC = 0x46554747;
    /** The alignment of the tensor data when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's limit on tensor dimensions. */
    public static final int MAX_DIMS = 4;
    /** Deepest nesting of arrays accepted in metadata. */
    static final int MAX_ARRAY_DEPTH = 4;
    /**
     * Most elements of one metadata array (a vocabulary of 16 million tokens); a file claiming more is refused
     * before anything is allocated, whatever its size.
     */
    public static final int MAX_ARRAY_LENGTH = 1 << 24;
    /** Most elements of all metadata arrays together: bounds the heap a header can take, whatever the file's size. */
    public static final long MAX_METADATA_ELEMENTS = 1L << 26;

    private final Path file;
    private final FileChannel channel;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataStart;

    private GgufFile(Path file, FileChannel channel, int version, GgufMetadata metadata,
                     Map<String, GgufTensorInfo> tensors, int alignment, long dataStart) {
        this.file = file;
        this.channel = channel;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    /**
     * Opens a GGUF file and validates its header and tensor infos.
     *
     * @throws GgufFormatException naming the file and the field for a missing, truncated, corrupt or unsupported file
     * @throws IOException         when the file cannot be read
     */
    public static GgufFile open(Path file) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new GgufFormatException("GGUF file not found: " + file);
        }
        try {
            return parse(file, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static GgufFile parse(Path file, FileChannel ch) throws IOException {
        HeaderReader in = new HeaderReader(file, ch);
        int magic = in.u32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException(file + ": not a GGUF file (magic " + String.format("0x%08x", magic)
                    + ", expected the bytes 'GGUF')");
        }
        int version = in.u32("version");
        if (version != 2 && version != 3) {
            String why = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (a big-endian file; only little-endian GGUF is read)"
                    : version == 1 ? " (version 1 is obsolete; convert the model again with a recent llama.cpp)" : "";
            throw new GgufFormatException(file + ": field 'version' is " + Integer.toUnsignedString(version)
                    + "; supported GGUF versions are 2 and 3" + why);
        }
        long tensorCount = in.count("tensor_count", 8 + 4 + 8 + 4 + 8);
        long kvCount = in.count("metadata_kv_count", 8 + 4 + 1);
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("key of metadata pair " + i, true);
            if (key.isEmpty()) {
                throw new GgufFormatException(file + ": metadata pair " + i + " has an empty key");
            }
            if (values.containsKey(key)) {
                throw new GgufFormatException(file + ": metadata key '" + key + "' appears twice");
            }
            GgufValueType type = in.valueType("type of metadata '" + key + "'");
            values.put(key, in.value(type, "metadata '" + key + "'", 0));
            types.put(key, type);
        }
        GgufMetadata metadata = new GgufMetadata(file.toString(), values, types);
        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.has("general.alignment")) {
            Object a = metadata.value("general.alignment");
            if (metadata.type("general.alignment") != GgufValueType.UINT32 || !(a instanceof Long l)
                    || l <= 0 || l > (1 << 20) || Long.bitCount(l) != 1) {
                throw new GgufFormatException(file + ": metadata 'general.alignment' must be a UINT32 power of two"
                        + " up to 2^20, found " + metadata.type("general.alignment") + " " + a);
            }
            alignment = (int) (long) l;
        }
        Map<String, GgufTensorInfo> infos = new LinkedHashMap<>();
        long[] relative = new long[(int) tensorCount];
        GgufTensorInfo[] pending = new GgufTensorInfo[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            String name = in.string("name of tensor " + i, true);
            String what = "tensor '" + name + "'";
            if (name.isEmpty()) {
                throw new GgufFormatException(file + ": tensor " + i + " has an empty name");
            }
            if (infos.containsKey(name)) {
                throw new GgufFormatException(file + ": tensor name '" + name + "' appears twice");
            }
            int dims = in.u32(what + " n_dims");
            if (dims < 1 || dims > MAX_DIMS) {
                throw new GgufFormatException(file + ": " + what + " n_dims is " + Integer.toUnsignedString(dims)
                        + ", expected 1.." + MAX_DIMS);
            }
            long[] ne = new long[dims];
            long elements = 1;
            for (int d = 0; d < dims; d++) {
                ne[d] = in.u64(what + " ne[" + d + "]");
                if (ne[d] < 1) {
                    throw new GgufFormatException(file + ": " + what + " ne[" + d + "] is "
                            + Long.toUnsignedString(ne[d]) + ", expected a positive dimension");
                }
                try {
                    elements = Math.multiplyExact(elements, ne[d]);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(file + ": " + what + " dimensions overflow 64 bits");
                }
            }
            int typeId = in.u32(what + " type");
            GgmlType type = GgmlType.fromId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw new GgufFormatException(file + ": " + what + " has unknown ggml type id "
                        + Integer.toUnsignedString(typeId));
            }
            if (ne[0] % type.blockSize() != 0) {
                throw new GgufFormatException(file + ": " + what + " of type " + type + " has ne[0] = " + ne[0]
                        + ", not a multiple of the block size " + type.blockSize());
            }
            long offset = in.u64(what + " offset");
            if (offset < 0 || offset % alignment != 0) {
                throw new GgufFormatException(file + ": " + what + " offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            long bytes;
            try {
                bytes = type.byteSize(elements);
            } catch (ArithmeticException e) {
                throw new GgufFormatException(file + ": " + what + " data size overflows 64 bits");
            }
            relative[i] = offset;
            pending[i] = new GgufTensorInfo(name, type, ne, offset, bytes);
            infos.put(name, pending[i]);
        }
        long headerEnd = in.position();
        long dataStart = (headerEnd + alignment - 1) / alignment * alignment;
        long size = ch.size();
        for (int i = 0; i < tensorCount; i++) {
            GgufTensorInfo t = pending[i];
            long available = size - dataStart;
            if (relative[i] > available || t.byteSize() > available - relative[i]) {
                throw new GgufFormatException(file + ": tensor '" + t.name() + "' data (offset " + relative[i]
                        + " + " + t.byteSize() + " bytes from the data start " + dataStart + ") lies past the end of"
                        + " the file (" + size + " bytes); the file is truncated or corrupt");
            }
            infos.put(t.name(), new GgufTensorInfo(t.name(), t.type(), t.ne(), dataStart + relative[i], t.byteSize()));
        }
        refuseOverlaps(file, pending, relative);
        LOG.debug("{}: GGUF v{}, {} metadata keys, {} tensors, alignment {}", file, version, values.size(),
                tensorCount, alignment);
        return new GgufFile(file, ch, version, metadata, Collections.unmodifiableMap(infos), alignment, dataStart);
    }

    /** The file. */
    public Path path() {
        return file;
    }

    /** The format version (2 or 3). */
    public int version() {
        return version;
    }

    /** The metadata. */
    public GgufMetadata metadata() {
        return metadata;
    }

    /** The tensors by name, in file order. */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** A tensor's info. @throws GgufFormatException naming the file when there is none of that name */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufFormatException(file + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** The alignment of the tensor data. */
    public int alignment() {
        return alignment;
    }

    /** The absolute offset where the tensor data starts. */
    public long dataStart() {
        return dataStart;
    }

    /**
     * Memory-maps {@code length} bytes of a tensor's data from {@code start} (relative to the tensor), read-only
     * and little-endian, e.g. to use a tensor's blocks where they lie ({@code WeightMatrix.wrap}). The mapping lasts
     * until the buffer is collected; loading reads instead ({@link #read}).
     */
    public ByteBuffer map(GgufTensorInfo tensor, long start, long length) throws IOException {
        if (start < 0 || length < 0 || length > Integer.MAX_VALUE || start > tensor.byteSize() - length) {
            throw new IllegalArgumentException("bytes " + start + "+" + length + " outside tensor '" + tensor.name()
                    + "' (" + tensor.byteSize() + " bytes) of " + file);
        }
        return channel.map(FileChannel.MapMode.READ_ONLY, tensor.offset() + start, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads {@code length} bytes of a tensor's data from {@code start} (relative to the tensor) into a new
     * little-endian buffer (read, not mapped: callers read large tensors a few rows at a time).
     */
    public ByteBuffer read(GgufTensorInfo tensor, long start, long length) throws IOException {
        if (start < 0 || length < 0 || length > Integer.MAX_VALUE - 8 || start > tensor.byteSize() - length) {
            throw new IllegalArgumentException("bytes " + start + "+" + length + " outside tensor '" + tensor.name()
                    + "' (" + tensor.byteSize() + " bytes) of " + file);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        readInto(tensor, start, buf);
        return buf.flip();
    }

    /**
     * Reads {@code dst.remaining()} bytes of a tensor's data from {@code start} (relative to the tensor) into
     * {@code dst}, whose position ends at its limit (no buffer of its own: loading copies blocks this way).
     */
    public void readInto(GgufTensorInfo tensor, long start, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (start < 0 || start > tensor.byteSize() - length) {
            throw new IllegalArgumentException("bytes " + start + "+" + length + " outside tensor '" + tensor.name()
                    + "' (" + tensor.byteSize() + " bytes) of " + file);
        }
        long at = tensor.offset() + start - dst.position();
        while (dst.hasRemaining()) {
            if (channel.read(dst, at + dst.position()) < 0) {
                throw new IOException(file + ": ends inside tensor '" + tensor.name() + "'");
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + file + ", v" + version + ", " + tensors.size() + " tensors]";
    }

    /** Sequential little-endian reads of the header, each checked against the file size first. */
    /** Refuses tensors whose data ranges overlap (a tensor's bytes are never another tensor's). */
    private static void refuseOverlaps(Path file, GgufTensorInfo[] tensors, long[] relative) {
        Integer[] order = new Integer[tensors.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingLong(i -> relative[i]));
        for (int k = 1; k < order.length; k++) {
            int a = order[k - 1];
            int b = order[k];
            // relative[a] + size <= relative[b], without overflow (both checked to lie inside the file)
            if (tensors[a].byteSize() > relative[b] - relative[a]) {
                throw new GgufFormatException(file + ": tensor '" + tensors[a].name() + "' data (offset " + relative[a]
                        + ", " + tensors[a].byteSize() + " bytes) overlaps tensor '" + tensors[b].name()
                        + "' (offset " + relative[b] + "); the file is corrupt or crafted");
            }
        }
    }

    private static final class HeaderReader {
        private static final int WINDOW = 1 << 16;
        private final Path file;
        private final FileChannel ch;
        private final long size;
        private final ByteBuffer window = ByteBuffer.allocate(WINDOW).order(ByteOrder.LITTLE_ENDIAN);
        /** Elements of the metadata arrays read so far (all arrays, nested ones included). */
        private long arrayElements;
        /** File offset of window's byte 0. */
        private long windowStart;

        HeaderReader(Path file, FileChannel ch) throws IOException {
            this.file = file;
            this.ch = ch;
            this.size = ch.size();
            window.limit(0);
        }

        long position() {
            return windowStart + window.position();
        }

        long remaining() {
            return size - position();
        }

        /** Makes {@code n <= WINDOW} bytes readable from the window, failing with the field's name if the file ends. */
        private void need(int n, String field) throws IOException {
            need(n, field, -1);
        }

        /**
         * As {@link #need(int, String)} for element {@code element} of array {@code field} (-1: the field itself); the
         * name is put together only for a message (a vocabulary's 300,000 strings made as many names).
         */
        private void need(int n, String field, int element) throws IOException {
            if (remaining() < n) {
                throw truncated(name(field, element), n);
            }
            if (window.remaining() >= n) {
                return;
            }
            long pos = position();
            window.clear();
            windowStart = pos;
            int want = (int) Math.min(WINDOW, size - pos);
            while (window.position() < want) {
                if (ch.read(window, pos + window.position()) < 0) {
                    throw truncated(name(field, element), n);
                }
            }
            window.flip();
        }

        private static String name(String field, int element) {
            return element < 0 ? field : field + " element " + element;
        }

        private GgufFormatException truncated(String field, long n) {
            return new GgufFormatException(file + ": truncated at " + field + " (offset " + position() + " needs "
                    + n + " bytes, the file has " + size + ")");
        }

        int u8(String field) throws IOException {
            need(1, field);
            return window.get() & 0xFF;
        }

        int u16(String field) throws IOException {
            need(2, field);
            return window.getShort() & 0xFFFF;
        }

        int u32(String field) throws IOException {
            need(4, field);
            return window.getInt();
        }

        long u64(String field) throws IOException {
            need(8, field);
            return window.getLong();
        }

        /** A u64 count of items of at least {@code minBytes} each, checked against the bytes left. */
        long count(String field, int minBytes) throws IOException {
            long n = u64(field);
            if (n < 0 || n > remaining() / minBytes || n > Integer.MAX_VALUE - 8) {
                throw new GgufFormatException(file + ": field '" + field + "' is " + Long.toUnsignedString(n)
                        + ", more than the " + remaining() + " bytes left in the file can hold");
            }
            return n;
        }

        GgufValueType valueType(String field) throws IOException {
            int id = u32(field);
            GgufValueType t = GgufValueType.fromId(Integer.toUnsignedLong(id));
            if (t == null) {
                throw new GgufFormatException(file + ": " + field + " is the unknown value type id "
                        + Integer.toUnsignedString(id) + " (known: 0..12)");
            }
            return t;
        }

        String string(String field, boolean strict) throws IOException {
            return string(field, -1, strict);
        }

        /** A string: {@code field} itself ({@code element} -1) or element {@code element} of the array {@code field}. */
        String string(String field, int element, boolean strict) throws IOException {
            if (remaining() < 8) {
                throw truncated(name(field, element) + " length", 8);
            }
            need(8, field, element);
            long len = window.getLong();
            if (len < 0 || len > remaining() || len > Integer.MAX_VALUE - 8) {
                throw new GgufFormatException(file + ": " + name(field, element) + " has length "
                        + Long.toUnsignedString(len) + ", more than the " + remaining() + " bytes left in the file");
            }
            byte[] bytes = new byte[(int) len];
            int at = 0;
            while (at < bytes.length) {
                int chunk = Math.min(WINDOW, bytes.length - at);
                need(chunk, field, element);
                window.get(bytes, at, chunk);
                at += chunk;
            }
            if (!strict) {
                return new String(bytes, StandardCharsets.UTF_8);
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new GgufFormatException(file + ": " + name(field, element) + " is not valid UTF-8");
            }
        }

        /**
         * The {@code n} strings of array {@code field} as their bytes, one after the other (decoded when asked for:
         * {@link GgufStrings}); the lengths are checked as {@link #string(String, int, boolean)} checks them.
         */
        private GgufStrings strings(String field, int n) throws IOException {
            int[] offsets = new int[n + 1];
            byte[] bytes = new byte[(int) Math.min(Math.max(16L * n, 16), Math.min(remaining(), 1L << 24))];
            int at = 0;
            for (int i = 0; i < n; i++) {
                if (remaining() < 8) {
                    throw truncated(name(field, i) + " length", 8);
                }
                need(8, field, i);
                long len = window.getLong();
                if (len < 0 || len > remaining() || len > Integer.MAX_VALUE - 8 - at) {
                    throw new GgufFormatException(file + ": " + name(field, i) + " has length "
                            + Long.toUnsignedString(len) + ", more than the " + remaining()
                            + " bytes left in the file");
                }
                if (at + len > bytes.length) {
                    bytes = java.util.Arrays.copyOf(bytes, (int) Math.min(Integer.MAX_VALUE - 8,
                            Math.max(at + len, 2L * bytes.length)));
                }
                int left = (int) len;
                while (left > 0) {
                    int chunk = Math.min(WINDOW, left);
                    need(chunk, field, i);
                    window.get(bytes, at, chunk);
                    at += chunk;
                    left -= chunk;
                }
                offsets[i + 1] = at;
            }
            return new GgufStrings(java.util.Arrays.copyOf(bytes, at), offsets);
        }

        Object value(GgufValueType type, String field, int depth) throws IOException {
            return switch (type) {
                case UINT8 -> u8(field);
                case INT8 -> (int) (byte) u8(field);
                case UINT16 -> u16(field);
                case INT16 -> (int) (short) u16(field);
                case UINT32 -> Integer.toUnsignedLong(u32(field));
                case INT32 -> u32(field);
                case FLOAT32 -> Float.intBitsToFloat(u32(field));
                case BOOL -> bool(field);
                case STRING -> string(field, false);
                case ARRAY -> array(field, depth);
                case UINT64, INT64 -> u64(field);
                case FLOAT64 -> Double.longBitsToDouble(u64(field));
            };
        }

        private boolean bool(String field) throws IOException {
            int b = u8(field);
            if (b > 1) {
                throw new GgufFormatException(file + ": " + field + " is a BOOL of value " + b + ", expected 0 or 1");
            }
            return b == 1;
        }

        private GgufArray array(String field, int depth) throws IOException {
            if (depth >= MAX_ARRAY_DEPTH) {
                throw new GgufFormatException(file + ": " + field + " nests arrays deeper than " + MAX_ARRAY_DEPTH);
            }
            GgufValueType et = valueType(field + " element type");
            long length = count(field + " length", et.minBytes());
            if (length > MAX_ARRAY_LENGTH) {
                throw new GgufFormatException(file + ": " + field + " length is " + length + ", more than the cap of "
                        + MAX_ARRAY_LENGTH + " elements for one metadata array (GgufFile.MAX_ARRAY_LENGTH)");
            }
            arrayElements += length;
            if (arrayElements > MAX_METADATA_ELEMENTS) {
                throw new GgufFormatException(file + ": " + field + " brings the metadata arrays to " + arrayElements
                        + " elements, more than the cap of " + MAX_METADATA_ELEMENTS
                        + " in all (GgufFile.MAX_METADATA_ELEMENTS)");
            }
            int n = (int) length;
            switch (et) {
                case INT32 -> {
                    // (a vocabulary's token types: read straight, not boxed one by one)
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = u32(field);
                    }
                    return new GgufArray(et, a);
                }
                case UINT8, INT8, UINT16, INT16 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Integer) value(et, field, depth);
                    }
                    return new GgufArray(et, a);
                }
                case UINT32, UINT64, INT64 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Long) value(et, field, depth);
                    }
                    return new GgufArray(et, a);
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = Float.intBitsToFloat(u32(field));
                    }
                    return new GgufArray(et, a);
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = Double.longBitsToDouble(u64(field));
                    }
                    return new GgufArray(et, a);
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = bool(field);
                    }
                    return new GgufArray(et, a);
                }
                case STRING -> {
                    return new GgufArray(et, strings(field, n));
                }
                case ARRAY -> {
                    GgufArray[] a = new GgufArray[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = array(field + " element " + i, depth + 1);
                    }
                    return new GgufArray(et, a);
                }
                default -> throw new IllegalStateException(et.name());
            }
        }
    }
}
