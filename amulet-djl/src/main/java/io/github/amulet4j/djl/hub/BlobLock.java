package io.github.amulet4j.djl.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An exclusive lock on one blob of the Hub cache, held while the blob is checked and downloaded, so that two
 * downloads of the same file (threads of this JVM or other processes) never write it at once: the second waits,
 * then finds the blob complete. The lock file sits where {@code huggingface_hub} puts its own
 * ({@code <cache>/.locks/models--org--name/<etag>.lock}); {@link FileChannel#lock()} excludes other Java
 * processes, a per-path {@link ReentrantLock} other threads of this JVM (file locks are held per process).
 * Python's {@code filelock} uses {@code flock}, which does not exclude these {@code fcntl} locks on Linux.
 */
final class BlobLock implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BlobLock.class);
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final ReentrantLock threadLock;
    private final FileChannel channel;
    private final FileLock fileLock;

    private BlobLock(ReentrantLock threadLock, FileChannel channel, FileLock fileLock) {
        this.threadLock = threadLock;
        this.channel = channel;
        this.fileLock = fileLock;
    }

    /** Waits for and takes the lock of {@code etag} in the cache folder {@code repoDir} (models--org--name). */
    static BlobLock acquire(Path repoDir, String etag, String what) throws IOException {
        Path file = repoDir.getParent().resolve(".locks").resolve(repoDir.getFileName()).resolve(etag + ".lock")
                .toAbsolutePath().normalize();
        ReentrantLock threadLock = IN_PROCESS.computeIfAbsent(file, f -> new ReentrantLock());
        if (!threadLock.tryLock()) {
            LOG.info("waiting for another download of {} in this process", what);
            threadLock.lock();
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                LOG.info("waiting for another process downloading {} (lock {})", what, file);
                lock = channel.lock();
            }
            return new BlobLock(threadLock, channel, lock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            threadLock.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            fileLock.release();
            channel.close();
        } finally {
            threadLock.unlock();
        }
    }
}
