package io.github.amulet4j.transformer.weights;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the slabs of the matrices held off the Java heap come from, in the order a model's load asks for them:
 * fresh memory ({@link #anonymous()}), or a weight cache file ({@link #cached}), a model's weights as the native
 * kernels hold them, written by its first load and memory-mapped in place by the next ones.
 *
 * <p>Why a cache: on the machines we measured, memory a process touches for the first time costs far more than a
 * file's pages already in the page cache (writing 500 MB of fresh memory took 0.9-2.9 s, reading the same size of a
 * mapped file in the page cache 0.45-0.6 s), and the native kernels' layout is not the checkpoint's (Q8_0/Q4_0 scales
 * held apart, Q4_0 rows interleaved by 8, column panels), so the checkpoint itself cannot be read in place. A
 * cached load reads nothing of the checkpoint's matrices: their slabs are the cache file's pages, shared with every
 * process that maps it.
 *
 * <p>A cache file is named by a SHA-256 key over the checkpoint files' identity (path, size, modification time,
 * file key), the layout's constants and the load's settings ({@link #cached}); it is written to a temporary file
 * and moved into place when the load has finished, so a reader never sees a partial one. A file whose header does
 * not match is ignored and written again. Not for use by several loads at once.
 */
public abstract class WeightSlabs {

    private static final Logger LOG = LoggerFactory.getLogger(WeightSlabs.class);

    /**
     * The layout version: bump when WeightPanel's layout, the file format or what is held how changes (2: fused
     * matrices of mixed types held as their parts).
     */
    static final int LAYOUT_VERSION = 2;
    private static final byte[] MAGIC = "AMULETW1".getBytes(StandardCharsets.US_ASCII);
    /** Slabs start at multiples of this (a page). */
    private static final int ALIGN = 4096;
    /** Name suffix of cache files. */
    static final String SUFFIX = ".amw";

    private static final WeightSlabs ANONYMOUS = new WeightSlabs() {
        @Override
        NativeSlab next(long bytes) {
            return NativeSlab.allocate(bytes);
        }

        @Override
        public String toString() {
            return "fresh memory";
        }
    };

    WeightSlabs() {
    }

    /** Slabs of fresh memory, nothing cached. */
    public static WeightSlabs anonymous() {
        return ANONYMOUS;
    }

    /**
     * Slabs from the cache file for {@code sources} in {@code dir}: mapped from it where it exists and matches, else
     * written into a new one as the load fills them ({@link #finish} moves it into place). Falls back to
     * {@link #anonymous()} (with a log line) where the folder cannot be made or the files cannot be read.
     *
     * @param sources  the checkpoint's files
     * @param settings what else decides the matrices' bytes (the format asked for, the head), in words
     * @param maxBytes the most bytes the folder's cache files may take together: the oldest are deleted past it
     */
    public static WeightSlabs cached(Path dir, List<Path> sources, String settings, long maxBytes) {
        if (sources.isEmpty()) {
            return ANONYMOUS;
        }
        try {
            String key = key(sources, settings);
            Files.createDirectories(dir);
            Path file = dir.resolve(key + SUFFIX);
            if (Files.isRegularFile(file)) {
                WeightSlabs read = CachedRead.open(file, key);
                if (read != null) {
                    return read;
                }
                LOG.info("weight cache {} does not match its header: written again", file);
            }
            // the file is written through a mapping: a disk that fills up under it would kill the process (SIGBUS), so
            // it is only written where the disk has room for twice the checkpoint (a conversion never grows it more)
            long sources0 = 0;
            for (Path p : sources) {
                sources0 += Files.size(p);
            }
            long need = 2 * sources0 + (256L << 20);
            long usable = Files.getFileStore(dir).getUsableSpace();
            if (usable < need) {
                LOG.info("weight cache not written: {} has {} MiB free, {} MiB wanted", dir, usable >> 20, need >> 20);
                return ANONYMOUS;
            }
            return new CachedWrite(dir, file, key, maxBytes);
        } catch (IOException | RuntimeException e) {
            LOG.warn("weight cache in {} not used: {}", dir, e.toString());
            return ANONYMOUS;
        }
    }

    /** The next slab of {@code bytes}, in the order the load asks for them. */
    abstract NativeSlab next(long bytes);

    /** Whether the slabs already hold the weights (a cache read): the load stores nothing into them. */
    boolean prefilled() {
        return false;
    }

    /** Called when every matrix of the load has been stored (and interleaved): a cache write is moved into place. */
    public void finish() {
    }

    /** Called when the load failed: a cache write is deleted. */
    public void abandon() {
    }

    /** The cache key: SHA-256 over the layout, the settings and each source file's identity, as hex. */
    static String key(List<Path> sources, String settings) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder id = new StringBuilder("layout ").append(LAYOUT_VERSION)
                .append(" slab ").append(WeightMatrix.MAX_SLAB_BYTES).append(" panel ").append(WeightMatrix.PANEL_COLS)
                .append('/').append(WeightMatrix.SPLIT_COLS).append(" pad ").append(WeightPanel.SCALE_PAD)
                .append(" group ").append(WeightPanel.GROUP).append(" arch ").append(System.getProperty("os.arch"))
                .append(" settings ").append(settings).append('\n');
        List<Path> sorted = new ArrayList<>();
        for (Path p : sources) {
            sorted.add(p.toAbsolutePath().normalize());
        }
        sorted.sort(Comparator.naturalOrder());
        for (Path p : sorted) {
            id.append(io.github.amulet4j.formats.checkpoint.FileIdentity.of(p)).append('\n');
        }
        return HexFormat.of().formatHex(sha.digest(id.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static long align(long at) {
        return (at + ALIGN - 1) / ALIGN * ALIGN;
    }

    /**
     * The header at the start of a cache file: magic, layout version, key (64 hex characters), slab count and where the
     * slab table lies (after the last slab: each slab's offset and size); the slabs start at the first page.
     */
    private static ByteBuffer header(String key, int count, long tableAt) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(LAYOUT_VERSION).put(key.getBytes(StandardCharsets.US_ASCII)).putInt(count).putLong(tableAt);
        return h.flip();
    }

    /** The slab table: each slab's offset and size. */
    private static ByteBuffer table(List<long[]> slabs) {
        ByteBuffer t = ByteBuffer.allocate(16 * slabs.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] s : slabs) {
            t.putLong(s[0]).putLong(s[1]);
        }
        return t.flip();
    }

    private static final int HEADER_BYTES = 8 + 4 + 64 + 4 + 8;

    /** A cache file mapped: each slab a read-only mapping of its region. */
    private static final class CachedRead extends WeightSlabs {
        private final Path file;
        private final NativeSlab.FileMapping mapping;
        private final long[][] slabs;
        private int next;

        private CachedRead(Path file, NativeSlab.FileMapping mapping, long[][] slabs) {
            this.file = file;
            this.mapping = mapping;
            this.slabs = slabs;
        }

        /** The file's slabs, or null where its header is not this key's. */
        static CachedRead open(Path file, String key) throws IOException {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            try {
                long size = ch.size();
                ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                if (size < h.capacity() || ch.read(h, 0) != h.capacity()) {
                    ch.close();
                    return null;
                }
                h.flip();
                byte[] magic = new byte[MAGIC.length];
                h.get(magic);
                int version = h.getInt();
                byte[] k = new byte[64];
                h.get(k);
                int count = h.getInt();
                long tableAt = h.getLong();
                if (!java.util.Arrays.equals(magic, MAGIC) || version != LAYOUT_VERSION
                        || !key.equals(new String(k, StandardCharsets.US_ASCII)) || count < 0 || count > 1 << 24
                        || tableAt < HEADER_BYTES || tableAt + 16L * count != size) {
                    ch.close();
                    return null;
                }
                ByteBuffer t = ByteBuffer.allocate(16 * count).order(ByteOrder.LITTLE_ENDIAN);
                if (ch.read(t, tableAt) != t.capacity()) {
                    ch.close();
                    return null;
                }
                t.flip();
                long[][] slabs = new long[count][];
                for (int i = 0; i < count; i++) {
                    slabs[i] = new long[] {t.getLong(), t.getLong()};
                    if (slabs[i][0] < ALIGN || slabs[i][1] <= 0 || slabs[i][0] + slabs[i][1] > tableAt) {
                        ch.close();
                        return null;
                    }
                }
                ch.close();
                // the most recently used files are the ones kept
                Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
                // the whole file mapped once, at a 2 MiB boundary: a file read back from disk lies in the page cache
                // in 2 MiB folios, each mapped by one page-table entry (no fault per 4 KiB page, and the decode streams
                // it as fast as memory of its own)
                NativeSlab.FileMapping mapping = NativeSlab.mapFile(file, size);
                LOG.debug("weight cache {}: {} slabs mapped in place", file, count);
                return new CachedRead(file, mapping, slabs);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        }

        @Override
        NativeSlab next(long bytes) {
            if (next >= slabs.length || slabs[next][1] != bytes) {
                throw new WeightCacheMismatchException(file, next, bytes,
                        next < slabs.length ? slabs[next][1] : -1);
            }
            long[] s = slabs[next++];
            return mapping.slab(s[0], s[1]);
        }

        @Override
        boolean prefilled() {
            return true;
        }

        @Override
        public void finish() {
            if (next != slabs.length) {
                throw new WeightCacheMismatchException(file, next, 0, slabs.length);
            }
        }

        @Override
        public String toString() {
            return "weight cache " + file;
        }
    }

    /**
     * A new cache file: the load fills slabs of fresh memory as without a cache (the process keeps them), written to the
     * file when the load has finished, which is then written to disk and dropped from the page cache, so that the next
     * load reads it back in 2 MiB folios (the pages a process writes stay 4 KiB ones, which map with an entry each and
     * stream about 10% slower).
     */
    private static final class CachedWrite extends WeightSlabs {
        private final Path dir;
        private final Path file;
        private final Path temp;
        private final String key;
        private final long maxBytes;
        private final FileChannel channel;
        private final List<long[]> slabs = new ArrayList<>();
        private final List<NativeSlab> filled = new ArrayList<>();
        private long end;

        CachedWrite(Path dir, Path file, String key, long maxBytes) throws IOException {
            this.dir = dir;
            this.file = file;
            this.key = key;
            this.maxBytes = maxBytes;
            this.temp = Files.createTempFile(dir, key + "-", ".tmp");
            this.channel = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.end = -1;
        }

        @Override
        NativeSlab next(long bytes) {
            if (end < 0) {
                end = ALIGN; // the header's page
            }
            long at = end;
            slabs.add(new long[] {at, bytes});
            end = align(at + bytes);
            NativeSlab slab = NativeSlab.allocate(bytes);
            filled.add(slab);
            return slab;
        }

        @Override
        public void finish() {
            if (slabs.isEmpty()) {
                abandon(); // nothing off the heap: nothing to cache
                return;
            }
            try {
                for (int i = 0; i < filled.size(); i++) {
                    ByteBuffer b = filled.get(i).view();
                    long at = slabs.get(i)[0];
                    while (b.hasRemaining()) {
                        at += channel.write(b, at);
                    }
                }
                ByteBuffer t = table(slabs);
                long tableAt = end;
                while (t.hasRemaining()) {
                    tableAt += channel.write(t, tableAt);
                }
                channel.write(header(key, slabs.size(), end), 0);
                channel.close();
                filled.clear();
                if (NativeSlab.dropCached(temp.toString()) != 0) {
                    LOG.debug("weight cache {}: its pages stay in the page cache as written", temp);
                }
                try {
                    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
                }
                LOG.debug("weight cache {} written: {} slabs, {} MiB", file, slabs.size(), end >> 20);
                evict();
            } catch (IOException e) {
                LOG.warn("weight cache {} not written: {}", file, e.toString());
                abandon();
            }
        }

        /** Deletes the least recently used cache files while the folder holds more than {@link #maxBytes}. */
        private void evict() throws IOException {
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = new ArrayList<>(s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList());
            }
            files.sort(Comparator.comparing((Path p) -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    return FileTime.fromMillis(0);
                }
            }).reversed());
            // a write that never finished (the process was killed) leaves its temporary file: removed after a day
            try (Stream<Path> s = Files.list(dir)) {
                long dayAgo = System.currentTimeMillis() - 86_400_000L;
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
                    if (Files.getLastModifiedTime(p).toMillis() < dayAgo) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            long total = 0;
            for (Path p : files) {
                total += Files.size(p);
                if (total > maxBytes && !p.equals(file)) {
                    LOG.info("weight cache {} deleted: the cache folder holds more than {} MiB", p, maxBytes >> 20);
                    Files.deleteIfExists(p);
                }
            }
        }

        @Override
        public void abandon() {
            filled.clear();
            try {
                channel.close();
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                LOG.debug("deleting {}: {}", temp, e.toString());
            }
        }

        @Override
        public String toString() {
            return "weight cache " + file + " (writing)";
        }
    }

    /** A cache file whose slabs are not the ones a load asks for: it is deleted and the load done again without it. */
    public static final class WeightCacheMismatchException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final transient Path file;

        WeightCacheMismatchException(Path file, int slab, long asked, long held) {
            super("weight cache " + file + ": slab " + slab + " asked for " + asked + " bytes, the file holds "
                    + (held < 0 ? "no more slabs" : held + " bytes") + "; the file does not match this model");
            this.file = file;
        }

        /** The cache file. */
        public Path file() {
            return file;
        }
    }
}
