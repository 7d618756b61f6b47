package io.github.amulet4j.formats.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;

/**
 * What names one version of a file for the caches derived from it (the weight cache, the tokenizer JSON cache): its
 * absolute path, size, modification time in nanoseconds and file key (device and inode where the file system has
 * them), so that a file changed or replaced in place gets another cache entry.
 */
public final class FileIdentity {

    private FileIdentity() {
    }

    /** {@code path size mtime fileKey} of {@code file} (its absolute, normalized path). */
    public static String of(Path file) throws IOException {
        Path p = file.toAbsolutePath().normalize();
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        return p + " " + a.size() + " " + a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + " " + a.fileKey();
    }
}
