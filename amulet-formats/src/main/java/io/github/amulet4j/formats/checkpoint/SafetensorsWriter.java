package io.github.amulet4j.formats.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes safetensors files (F32, F16 or BF16, rounding to nearest even when narrowing) with
 * {@code __metadata__ = {"format":"pt"}}, and sharded sets with a {@code model.safetensors.index.json}.
 * Values are streamed through a small buffer: memory use does not grow with the tensor sizes when the
 * values come from {@link TensorEntry.ValueSource}s. Files are written to a temporary name and moved into
 * place when complete.
 */
public final class SafetensorsWriter {

    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsWriter.class);
    private static final int CHUNK_ELEMENTS = 1 << 18;

    private SafetensorsWriter() {
    }

    /** Writes every tensor of a store (in its {@code names()} order), read one at a time. */
    public static void write(Path file, TensorStore store, SafetensorsDtype dtype) throws IOException {
        write(file, entriesOf(store), dtype);
    }

    /** Writes tensors held in arrays: name to (shape, values) via {@link TensorEntry#of}. */
    public static void write(Path file, Map<String, TensorEntry> tensors, SafetensorsDtype dtype) throws IOException {
        write(file, new ArrayList<>(tensors.values()), dtype);
    }

    /** Writes the given tensors, in the given order, to one file. */
    public static void write(Path file, List<TensorEntry> tensors, SafetensorsDtype dtype) throws IOException {
        Objects.requireNonNull(dtype, "dtype");
        if (!dtype.writable()) {
            throw new IllegalArgumentException("cannot write dtype " + dtype + " (writable: F32, F16, BF16)");
        }
        Set<String> seen = new HashSet<>();
        for (TensorEntry t : tensors) {
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
            }
            if ("__metadata__".equals(t.name())) {
                throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            }
        }
        byte[] header = header(tensors, dtype);
        Path abs = file.toAbsolutePath();
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent());
        }
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            float[] values = new float[CHUNK_ELEMENTS];
            ByteBuffer out = ByteBuffer.allocateDirect(CHUNK_ELEMENTS * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorEntry t : tensors) {
                long n = t.numel();
                for (long done = 0; done < n; ) {
                    int count = (int) Math.min(CHUNK_ELEMENTS, n - done);
                    t.values().fill(done, values, count);
                    out.clear();
                    dtype.encode(values, 0, count, out);
                    out.flip();
                    writeFully(ch, out);
                    done += count;
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
        LOG.debug("wrote {} ({} tensors, {})", abs, tensors.size(), dtype);
    }

    /**
     * Writes a sharded set into {@code dir}: files {@code model-00001-of-0000N.safetensors}, each holding
     * consecutive tensors up to about {@code maxShardBytes} of data (a larger tensor gets a shard of its own),
     * and {@code model.safetensors.index.json}.
     *
     * @return the index file
     */
    public static Path writeSharded(Path dir, List<TensorEntry> tensors, SafetensorsDtype dtype, long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<TensorEntry>> groups = new ArrayList<>();
        List<TensorEntry> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (TensorEntry t : tensors) {
            long bytes = t.numel() * dtype.byteSize();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                groups.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += bytes;
            total += bytes;
        }
        if (!current.isEmpty() || groups.isEmpty()) {
            groups.add(current);
        }
        Files.createDirectories(dir);
        JsonObject weightMap = new JsonObject();
        int n = groups.size();
        for (int i = 0; i < n; i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            write(dir.resolve(name), groups.get(i), dtype);
            for (TensorEntry t : groups.get(i)) {
                weightMap.addProperty(t.name(), name);
            }
        }
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        JsonObject index = new JsonObject();
        index.add("metadata", meta);
        index.add("weight_map", weightMap);
        Path indexFile = dir.resolve(Checkpoints.INDEX_FILE);
        Files.writeString(indexFile, index.toString(), StandardCharsets.UTF_8);
        LOG.debug("wrote sharded checkpoint {} ({} shards)", indexFile, n);
        return indexFile;
    }

    /** Writes a store as a sharded set; see {@link #writeSharded(Path, List, SafetensorsDtype, long)}. */
    public static Path writeSharded(Path dir, TensorStore store, SafetensorsDtype dtype, long maxShardBytes)
            throws IOException {
        return writeSharded(dir, entriesOf(store), dtype, maxShardBytes);
    }

    /** Entries that read each tensor of a store when its first chunk is requested (one tensor held at a time). */
    public static List<TensorEntry> entriesOf(TensorStore store) {
        List<TensorEntry> list = new ArrayList<>();
        for (String name : store.names()) {
            float[][] cache = new float[1][];
            list.add(new TensorEntry(name, store.shape(name), (first, buf, count) -> {
                if (first == 0 || cache[0] == null) {
                    cache[0] = store.readFloat32(name);
                }
                System.arraycopy(cache[0], (int) first, buf, 0, count);
                if (first + count >= cache[0].length) {
                    cache[0] = null;
                }
            }));
        }
        return list;
    }

    private static byte[] header(List<TensorEntry> tensors, SafetensorsDtype dtype) {
        JsonObject root = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        root.add("__metadata__", meta);
        long offset = 0;
        for (TensorEntry t : tensors) {
            JsonObject o = new JsonObject();
            o.addProperty("dtype", dtype.name());
            JsonArray shape = new JsonArray();
            for (long d : t.shape()) {
                shape.add(d);
            }
            o.add("shape", shape);
            long bytes = Math.multiplyExact(t.numel(), dtype.byteSize());
            JsonArray offs = new JsonArray();
            offs.add(offset);
            offs.add(offset + bytes);
            o.add("data_offsets", offs);
            root.add(t.name(), o);
            offset += bytes;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // pad with spaces so the data starts 8-byte aligned
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
