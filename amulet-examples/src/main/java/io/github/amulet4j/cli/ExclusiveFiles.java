package io.github.amulet4j.cli;

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
}
