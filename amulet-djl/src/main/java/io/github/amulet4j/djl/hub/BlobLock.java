package io.github.amulet4j.djl.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
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

    /**
     * Waits up to {@code wait} for and takes the lock of {@code etag} in the cache folder {@code repoDir}
     * (models--org--name), then writes who holds it into the lock file.
     *
     * @throws HubException when the lock is still held after {@code wait}, naming its holder
     */
    static BlobLock acquire(Path repoDir, String etag, String what, Duration wait) throws IOException {
        Path file = repoDir.getParent().resolve(".locks").resolve(repoDir.getFileName()).resolve(etag + ".lock")
                .toAbsolutePath().normalize();
        long deadline = System.nanoTime() + wait.toNanos();
        ReentrantLock threadLock = IN_PROCESS.computeIfAbsent(file, f -> new ReentrantLock());
        if (!threadLock.tryLock()) {
            LOG.info("waiting for another download of {} in this process", what);
            boolean got;
            try {
                got = threadLock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("interrupted while waiting for the lock " + file, -1, e);
            }
            if (!got) {
                throw new HubException("waited " + wait.toSeconds() + " s for another download of " + what
                        + " in this process (" + holder(file) + "); it still holds the lock " + file);
            }
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                LOG.info("waiting for another process downloading {} (lock {}: {})", what, file, holder(file));
                while ((lock = channel.tryLock()) == null) {
                    if (System.nanoTime() > deadline) {
                        throw new HubException("waited " + wait.toSeconds() + " s for the lock " + file + ", held by "
                                + holder(file) + "; if that process is gone, delete the lock file");
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new HubException("interrupted while waiting for the lock " + file, -1, e);
                    }
                }
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " downloading " + what + " since "
                    + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new BlobLock(threadLock, channel, lock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            threadLock.unlock();
            throw e;
        }
    }

    /** Who holds the lock, as the holder wrote it into the file (amulet's downloads do; others may not). */
    private static String holder(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "a process that did not say who it is (Python's huggingface_hub, or an older amulet)" : s;
        } catch (IOException e) {
            return "an unknown holder (" + e.getMessage() + ")";
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
