package io.github.amulet4j.formats.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint split over several safetensors files, described by {@code model.safetensors.index.json}
 * ({@code weight_map}: tensor name to shard file name, relative to the index's folder). All shards are opened
 * and checked against the index on {@link #open}.
 */
public final class ShardedCheckpoint implements TensorStore {

    private static final Logger LOG = LoggerFactory.getLogger(ShardedCheckpoint.class);

    private final Path indexFile;
    private final Map<String, SafetensorsFile> byTensor;
    private final Map<String, SafetensorsFile> shards;

    private ShardedCheckpoint(Path indexFile, Map<String, SafetensorsFile> byTensor, Map<String, SafetensorsFile> shards) {
        this.indexFile = indexFile;
        this.byTensor = byTensor;
        this.shards = shards;
    }

    /**
     * Opens the shards listed by an index file.
     *
     * @throws CheckpointException naming the index or shard file when the index is malformed, a shard is
     *                             missing or corrupt, or a shard lacks a tensor the index puts there
     */
    public static ShardedCheckpoint open(Path indexFile) throws IOException {
        JsonObject root;
        try (Reader r = Files.newBufferedReader(indexFile, StandardCharsets.UTF_8)) {
            JsonElement el = JsonParser.parseReader(r);
            if (!el.isJsonObject()) {
                throw new CheckpointException(indexFile + ": expected a JSON object with a 'weight_map'");
            }
            root = el.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint index not found: " + indexFile);
        } catch (JsonParseException e) {
            throw new CheckpointException(indexFile + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonElement wm = root.get("weight_map");
        if (wm == null || !wm.isJsonObject()) {
            throw new CheckpointException(indexFile + ": missing or non-object field 'weight_map'");
        }
        // normalized too: a folder given as ./x or ../models/x must contain its own normalized shard paths
        Path dir = indexFile.toAbsolutePath().normalize().getParent();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
                JsonElement v = e.getValue();
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                    throw new CheckpointException(indexFile + ": weight_map entry '" + e.getKey()
                            + "' must be a file name string, found " + v);
                }
                String shardName = v.getAsString();
                Path shardPath = dir.resolve(shardName).normalize();
                if (!shardPath.startsWith(dir)) {
                    throw new CheckpointException(indexFile + ": weight_map entry '" + e.getKey()
                            + "' points outside the model folder: " + shardName);
                }
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    if (!Files.isRegularFile(shardPath)) {
                        throw new CheckpointException(indexFile + ": shard file " + shardName + " (for tensor '"
                                + e.getKey() + "') not found in " + dir);
                    }
                    shard = SafetensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                if (!shard.contains(e.getKey())) {
                    throw new CheckpointException(indexFile + ": tensor '" + e.getKey() + "' is mapped to "
                            + shardName + " but that file does not contain it");
                }
                byTensor.put(e.getKey(), shard);
            }
        } catch (RuntimeException | IOException ex) {
            shards.values().forEach(SafetensorsFile::close);
            throw ex;
        }
        LOG.debug("opened sharded checkpoint {} ({} shards, {} tensors)", indexFile, shards.size(), byTensor.size());
        return new ShardedCheckpoint(indexFile, Collections.unmodifiableMap(byTensor), Collections.unmodifiableMap(shards));
    }

    /** The index file. */
    @Override
    public java.util.List<Path> files() {
        java.util.List<Path> all = new java.util.ArrayList<>();
        all.add(indexFile);
        shards.values().forEach(f -> all.add(f.file()));
        return java.util.List.copyOf(all);
    }

    public Path indexFile() {
        return indexFile;
    }

    /** Number of shard files. */
    public int shardCount() {
        return shards.size();
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public long[] shape(String name) {
        return shard(name).shape(name);
    }

    @Override
    public String dtype(String name) {
        return shard(name).dtype(name);
    }

    @Override
    public float[] readFloat32(String name) {
        return shard(name).readFloat32(name);
    }

    @Override
    public void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        shard(name).readRows(name, firstRow, rowCount, dst, dstOffset);
    }

    @Override
    public boolean hasRawRows(String name) {
        return contains(name) && shard(name).hasRawRows(name);
    }

    @Override
    public void readRawRows(String name, long firstRow, int rowCount, java.nio.ByteBuffer dst) {
        shard(name).readRawRows(name, firstRow, rowCount, dst);
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in " + indexFile);
        }
        return f;
    }

    @Override
    public void close() {
        shards.values().forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + indexFile + ", " + shards.size() + " shards, " + byTensor.size() + " tensors]";
    }
}
