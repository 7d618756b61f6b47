package io.github.amulet4j.eval;

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
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The JSON-lines output of an eval run, written so that an interrupted run can resume.
 *
 * <p>Opening reads the rows already there and remembers their {@link RowKey}s; a partial last line (a
 * write cut by a kill) is cut off, so the file again holds only whole JSON lines. Each new row is written
 * as one line in a single write, then flushed to the disk ({@code fsync}), so a kill loses at most the
 * row in flight. An exclusive file lock keeps two runs from writing the same file.
 *
 * <p>{@link #append} and {@link #close} are synchronized: a shutdown hook may close the file while the
 * run is still going; a row is then either written whole or not at all.
 */
public final class ResultsFile implements AutoCloseable {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    private final Path path;
    private final FileChannel channel;
    /**
     * The rows are written through this stream, not the channel: a {@link FileChannel} is closed when the
     * writing thread is interrupted (possibly in the middle of a line), a {@link RandomAccessFile} write is not
     * interruptible, so each row is written whole.
     */
    private final RandomAccessFile out;
    private final FileLock lock;
    private final List<JsonObject> existingRows;
    private final Set<RowKey> done;
    private final long truncatedBytes;
    private boolean closed;

    private ResultsFile(Path path, FileChannel channel, RandomAccessFile out, FileLock lock, List<JsonObject> rows,
                        Set<RowKey> done, long truncatedBytes) {
        this.path = path;
        this.channel = channel;
        this.out = out;
        this.lock = lock;
        this.existingRows = rows;
        this.done = done;
        this.truncatedBytes = truncatedBytes;
    }

    /**
     * Opens (or creates) a results file for appending, reading the rows already there.
     *
     * @throws IllegalArgumentException when a whole line is not a result row (naming the file and line),
     *                                  or another process is writing the file
     * @throws IOException              when the file cannot be read or written
     */
    public static ResultsFile open(Path path) throws IOException {
        return open(path, false);
    }

    /**
     * Opens (or creates) a results file for appending; with {@code discard} the rows already there are deleted
     * first (a new run in the same file), under the file's lock.
     *
     * @see #open(Path)
     */
    public static ResultsFile open(Path path, boolean discard) throws IOException {
        FileChannel channel = ExclusiveFiles.openReadWrite(path);
        try {
            FileLock lock = ExclusiveFiles.lockOrRefuse(channel, "results file " + path + " is being written by another eval run");
            if (discard) {
                channel.truncate(0);
                channel.force(true);
            }
            long size = channel.size();
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(size));
            while (all.hasRemaining() && channel.read(all, all.position()) >= 0) {
                // read until full
            }
            byte[] bytes = all.array();
            int complete = lastNewline(bytes) + 1; // bytes [0, complete) are whole lines
            List<JsonObject> rows = new ArrayList<>();
            Set<RowKey> done = new LinkedHashSet<>();
            int start = 0;
            int lineNo = 0;
            while (start < complete) {
                int end = start;
                while (bytes[end] != '\n') {
                    end++;
                }
                lineNo++;
                String line = new String(bytes, start, end - start, StandardCharsets.UTF_8).strip();
                if (!line.isEmpty()) {
                    JsonObject row = parseRow(path, lineNo, line);
                    RowKey key = keyOf(path, lineNo, row);
                    if (done.add(key)) {
                        rows.add(row);
                    }
                }
                start = end + 1;
            }
            long truncated = size - complete;
            if (truncated > 0) {
                channel.truncate(complete);
                channel.force(true);
            }
            channel.position(complete);
            return new ResultsFile(path, channel, new RandomAccessFile(path.toFile(), "rw"), lock,
                    Collections.unmodifiableList(rows), Collections.unmodifiableSet(done), truncated);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static int lastNewline(byte[] bytes) {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static JsonObject parseRow(Path path, int lineNo, String line) {
        return ExclusiveFiles.objectLine("results file", path, lineNo, line, " (an eval results file)", "an eval results file");
    }

    /** The key of a row. @throws IllegalArgumentException when a key field is missing */
    static RowKey keyOf(Path path, int lineNo, JsonObject row) {
        try {
            return new RowKey(row.get("index").getAsInt(), row.get("method").getAsString(),
                    row.get("preference").getAsString());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("results file " + path + ", line " + lineNo
                    + ": a row needs \"index\", \"method\" and \"preference\"", e);
        }
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** The rows that were in the file when it was opened (whole lines only, first occurrence of each key). */
    public List<JsonObject> existingRows() {
        return existingRows;
    }

    /** Keys of the rows that were in the file when it was opened. */
    public Set<RowKey> doneKeys() {
        return done;
    }

    /** Bytes of a partial last line cut off when opening (0 when the file ended cleanly). */
    public long truncatedBytes() {
        return truncatedBytes;
    }

    /** Whether {@link #close()} has run (for example from a shutdown hook). */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Writes one row as one JSON line and forces it to the disk.
     *
     * @throws IllegalStateException when the file was closed (the run is being interrupted)
     * @throws IOException           when the write fails
     */
    public synchronized void append(JsonObject row) throws IOException {
        if (closed) {
            throw new IllegalStateException("results file " + path + " is closed");
        }
        byte[] line = (line(row) + "\n").getBytes(StandardCharsets.UTF_8);
        out.seek(out.length());
        out.write(line); // one uninterruptible write: an interrupt neither cuts the line nor closes the file
        out.getFD().sync();
    }

    /** A row as the one line (without the line break) that {@link #append} writes. */
    public static String line(JsonObject row) {
        return GSON.toJson(row);
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
