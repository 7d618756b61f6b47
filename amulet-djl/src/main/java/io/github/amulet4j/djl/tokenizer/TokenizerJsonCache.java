package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.checkpoint.FileIdentity;
import io.github.amulet4j.formats.gguf.GgufTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@code tokenizer.json} text that a GGUF file's metadata makes ({@link GgufTokenizer#json()}), kept in a folder
 * (the weight cache's, where one is set) so that later loads of the same file hand the tokenizers library the
 * finished text instead of writing 7 MB of JSON again (a Qwen2.5 vocabulary: 0.3-0.5 s of a cold start's critical
 * path). A file is named by a SHA-256 over the GGUF file's path, size, modification time and file key, and over the
 * identity of the code that writes the JSON (the jar or class file of {@link GgufTokenizer}: another version writes
 * its own): a changed model file or library never reads a stale one. Files are written under a temporary name and
 * moved into place, so no reader sees half a file; a file the tokenizers library rejects is deleted by the caller
 * ({@link #forget}); files unused for {@value #UNUSED_DAYS} days are deleted when another is written.
 */
public final class TokenizerJsonCache {

    private static final Logger LOG = LoggerFactory.getLogger(TokenizerJsonCache.class);

    /** The suffix of the cached files. */
    static final String SUFFIX = ".tokenizer.json";
    /** Days after which a cached file that no load used is deleted. */
    static final int UNUSED_DAYS = 30;

    private final Path dir;

    private TokenizerJsonCache(Path dir) {
        this.dir = dir;
    }

    /** A cache in {@code dir} (created when the first file is written). */
    public static TokenizerJsonCache in(Path dir) {
        if (dir == null) {
            throw new IllegalArgumentException("tokenizer cache folder: null");
        }
        return new TokenizerJsonCache(dir.toAbsolutePath().normalize());
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /**
     * The cached JSON of {@code gguf}, or null when there is none (or the file's identity cannot be read); a file
     * found is marked as used now.
     */
    public Path find(Path gguf) {
        try {
            Path file = dir.resolve(key(gguf) + SUFFIX);
            if (!Files.isRegularFile(file)) {
                return null;
            }
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
            return file;
        } catch (IOException | RuntimeException e) {
            LOG.debug("tokenizer cache of {}: {}", gguf, e.toString());
            return null;
        }
    }

    /**
     * Writes {@code json} as the cached JSON of {@code gguf}; a failure (a read-only folder, a full disk) is logged
     * and leaves no file behind: the next load writes the JSON again.
     */
    public void store(Path gguf, String json) {
        Path temp = null;
        try {
            Files.createDirectories(dir);
            String key = key(gguf);
            temp = Files.createTempFile(dir, key + "-", ".tmp");
            Files.writeString(temp, json, StandardCharsets.UTF_8);
            Path file = dir.resolve(key + SUFFIX);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
            LOG.debug("tokenizer of {} cached as {}", gguf, file);
            deleteUnused();
        } catch (IOException | RuntimeException e) {
            LOG.warn("tokenizer of {} not cached in {}: {}", gguf, dir, e.toString());
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    LOG.debug("deleting {}: {}", temp, e.toString());
                }
            }
        }
    }

    /** Deletes a cached file the tokenizers library rejected (it is written again from the metadata). */
    public void forget(Path cached) {
        try {
            Files.deleteIfExists(cached);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", cached, e.toString());
        }
    }

    private void deleteUnused() throws IOException {
        long before = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(UNUSED_DAYS);
        long dayAgo = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(1);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                long at = Files.getLastModifiedTime(p).toMillis();
                // (a temporary file a killed process left: after a day)
                if ((name.endsWith(SUFFIX) && at < before) || (name.endsWith(".tmp") && name.contains("-")
                        && at < dayAgo && name.length() > 64 && HEX.matcher(name.substring(0, 64)).matches())) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static final java.util.regex.Pattern HEX = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    /** SHA-256 over the writer's identity and the GGUF file's path, size, modification time and file key, as hex. */
    static String key(Path gguf) throws IOException {
        StringBuilder id = new StringBuilder("tokenizer.json of a GGUF file\n").append(writerIdentity()).append('\n');
        id.append(FileIdentity.of(gguf));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(id.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The jar (or class file) holding {@link GgufTokenizer}: its {@link FileIdentity}. */
    private static String writerIdentity() throws IOException {
        try {
            var source = GgufTokenizer.class.getProtectionDomain().getCodeSource();
            Path where = Path.of(source.getLocation().toURI());
            if (Files.isDirectory(where)) {
                where = where.resolve(GgufTokenizer.class.getName().replace('.', '/') + ".class");
            }
            return FileIdentity.of(where);
        } catch (URISyntaxException | RuntimeException e) {
            throw new IOException("where the tokenizer's JSON writer was loaded from is unknown: " + e, e);
        }
    }
}
