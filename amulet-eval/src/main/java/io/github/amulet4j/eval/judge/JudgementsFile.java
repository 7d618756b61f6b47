package io.github.amulet4j.eval.judge;

import io.github.amulet4j.eval.ExclusiveFiles;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON-lines record of a judge run, appended to and resumed: the first line holds the {@link JudgeSettings},
 * every other line one {@link Judgement}.
 *
 * <p>As {@code eval}'s results file: an exclusive lock keeps two runs out; a partial last line (a write cut by a
 * kill) is cut off when opening; each judgement is one write, flushed to the disk before {@link #append} returns.
 * {@link #append} and {@link #close} are synchronized (worker threads append, a shutdown hook may close).
 */
public final class JudgementsFile implements AutoCloseable {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private final Path path;
    private final FileChannel channel;
    /**
     * The lines are written through this stream, not the channel: a {@link FileChannel} is closed when the
     * writing thread is interrupted (possibly in the middle of a line), a {@link RandomAccessFile} write is not
     * interruptible, so each line is written whole (or, on an I/O error, not at all before the next open cuts it).
     */
    private final RandomAccessFile out;
    private final FileLock lock;
    private final JudgeSettings settings;
    private final Map<JudgementKey, Judgement> existing;
    private final long truncatedBytes;
    private boolean closed;

    private JudgementsFile(Path path, FileChannel channel, RandomAccessFile out, FileLock lock, JudgeSettings settings,
                           Map<JudgementKey, Judgement> existing, long truncatedBytes) {
        this.path = path;
        this.channel = channel;
        this.out = out;
        this.lock = lock;
        this.settings = settings;
        this.existing = existing;
        this.truncatedBytes = truncatedBytes;
    }

    /**
     * Opens (or creates) a judgements file. A new or empty file gets {@code settings} as its first line; an existing
     * one must have been written with the same settings.
     *
     * @throws IllegalArgumentException naming the file: another run holds it, a line is not a judgement, or its
     *                                  settings differ (naming each differing setting)
     */
    public static JudgementsFile open(Path path, JudgeSettings settings) throws IOException {
        FileChannel channel = ExclusiveFiles.openReadWrite(path);
        try {
            FileLock lock = ExclusiveFiles.lockOrRefuse(channel, "judgements file " + path + " is being written by another judge run");
            long size = channel.size();
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(size));
            while (all.hasRemaining() && channel.read(all, all.position()) >= 0) {
                // read until full
            }
            byte[] bytes = all.array();
            int complete = 0; // bytes [0, complete) are whole lines
            for (int i = bytes.length - 1; i >= 0; i--) {
                if (bytes[i] == '\n') {
                    complete = i + 1;
                    break;
                }
            }
            JudgeSettings recorded = null;
            Map<JudgementKey, Judgement> existing = new LinkedHashMap<>();
            String[] lines = new String(bytes, 0, complete, StandardCharsets.UTF_8).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty()) {
                    continue;
                }
                JsonObject o = parse(path, i + 1, line);
                String type = o.has("type") && o.get("type").isJsonPrimitive() ? o.get("type").getAsString() : "";
                if (recorded == null) {
                    if (!type.equals(JudgeSettings.TYPE)) {
                        throw new IllegalArgumentException("judgements file " + path + ", line " + (i + 1)
                                + ": expected the judge settings line first; is it a judgements file?");
                    }
                    try {
                        recorded = JudgeSettings.fromJson(o);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("judgements file " + path + ", line " + (i + 1) + ": "
                                + e.getMessage(), e);
                    }
                    continue;
                }
                if (!type.equals(Judgement.TYPE)) {
                    throw new IllegalArgumentException("judgements file " + path + ", line " + (i + 1)
                            + ": expected \"type\": \"judgement\"");
                }
                try {
                    Judgement j = Judgement.fromJson(o);
                    existing.putIfAbsent(j.key(), j);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("judgements file " + path + ", line " + (i + 1) + ": "
                            + e.getMessage(), e);
                }
            }
            if (recorded != null) {
                var differences = recorded.differences(settings);
                if (!differences.isEmpty()) {
                    throw new IllegalArgumentException("judgements file " + path + " was written with other judge "
                            + "settings: " + String.join("; ", differences) + ". Judge into another --out file, or "
                            + "give the same settings to resume");
                }
            }
            long truncated = size - complete;
            if (truncated > 0) {
                channel.truncate(complete);
                channel.force(true);
            }
            channel.position(complete);
            JudgementsFile file = new JudgementsFile(path, channel, new RandomAccessFile(path.toFile(), "rw"), lock,
                    settings, Collections.unmodifiableMap(existing), truncated);
            if (recorded == null) {
                try {
                    channel.truncate(0); // only blank lines were there
                    channel.position(0);
                    file.write(settings.toJson());
                } catch (IOException | RuntimeException e) {
                    file.out.close();
                    throw e;
                }
            }
            return file;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static JsonObject parse(Path path, int lineNo, String line) {
        return ExclusiveFiles.objectLine("judgements file", path, lineNo, line, "", "a judgements file");
    }

    public Path path() {
        return path;
    }

    /** The settings of this run (those recorded in the file). */
    public JudgeSettings settings() {
        return settings;
    }

    /** The judgements that were in the file when it was opened (the first line of each key). */
    public Map<JudgementKey, Judgement> existing() {
        return existing;
    }

    /** The judgement of a key that was in the file when it was opened. */
    public Optional<Judgement> find(JudgementKey key) {
        return Optional.ofNullable(existing.get(key));
    }

    /** Bytes of a partial last line cut off when opening. */
    public long truncatedBytes() {
        return truncatedBytes;
    }

    /**
     * Writes one judgement as one JSON line and forces it to the disk.
     *
     * @throws IllegalStateException when the file was closed (the run is being interrupted)
     */
    public synchronized void append(Judgement j) throws IOException {
        if (closed) {
            throw new IllegalStateException("judgements file " + path + " is closed");
        }
        write(j.toJson());
    }

    /**
     * Appends one line in one uninterruptible write and syncs it to the disk; a thread interrupt neither cuts the
     * line nor closes the file (the interrupt stays set for the caller to see).
     */
    private void write(JsonObject o) throws IOException {
        byte[] line = (GSON.toJson(o) + "\n").getBytes(StandardCharsets.UTF_8);
        out.seek(out.length());
        out.write(line);
        out.getFD().sync();
    }

    /** Releases the lock and closes the file; idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            out.getFD().sync();
            lock.release();
        } finally {
            try {
                out.close();
            } finally {
                channel.close();
            }
        }
    }
}
