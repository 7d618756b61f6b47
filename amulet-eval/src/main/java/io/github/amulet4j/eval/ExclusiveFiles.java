package io.github.amulet4j.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The append-only JSON-lines files that a run resumes from ({@code eval}'s results, {@code judge}'s judgements) are
 * written by one run at a time: opened for reading and writing and held under an exclusive file lock.
 */
public final class ExclusiveFiles {

    private ExclusiveFiles() {
    }

    /** Opens {@code path} for reading and writing, creating it and its folder when missing. */
    public static FileChannel openReadWrite(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /**
     * The exclusive lock of {@code channel}'s whole file.
     *
     * @throws IllegalArgumentException with {@code busyMessage} when another process (or another channel of this
     *                                  one) holds it
     */
    public static FileLock lockOrRefuse(FileChannel channel, String busyMessage) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new IllegalArgumentException(busyMessage);
        }
        return lock;
    }

    /**
     * One line of such a file as a JSON object.
     *
     * @param kind     what the file is, first in every message ({@code "results file"})
     * @param path     the file
     * @param lineNo   the line's number, from 1
     * @param notAnObject what to add when the line is JSON but no object (e.g. {@code " (an eval results file)"})
     * @param expected what {@code --out} should name, asked when the line is not JSON ({@code "an eval results file"})
     * @throws IllegalArgumentException naming the file and line
     */
    public static JsonObject objectLine(String kind, Path path, int lineNo, String line, String notAnObject,
                                        String expected) {
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(kind + " " + path + ", line " + lineNo
                        + ": expected a JSON object per line" + notAnObject);
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(kind + " " + path + ", line " + lineNo
                    + " is not valid JSON; is --out " + expected + "?", e);
        }
    }
}
