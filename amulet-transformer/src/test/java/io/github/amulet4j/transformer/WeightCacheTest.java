package io.github.amulet4j.transformer;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.WeightCache;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight cache ({@link WeightCache}): a model loaded from the cache file its first load wrote computes the same
 * logits, bit for bit, as one loaded from the checkpoint without a cache, in every format the native kernels hold
 * (Q4_0 interleaved included); a file that does not match is written again; a changed checkpoint gets a file of its
 * own; the folder stays within its bound.
 */
class WeightCacheTest {

    @TempDir
    Path dir;

    @BeforeEach
    void needsLibrary() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
    }

    @Test
    void aCachedLoadGivesTheLogitsOfAnUncachedOne() throws IOException {
        Path source = Files.writeString(dir.resolve("model.bin"), "checkpoint");
        Path cacheDir = dir.resolve("cache");
        ModelConfig c = config();
        TensorStore store = withFiles(RandomCheckpoint.create(c, 41, TensorLayout.GPT2_PREFIX, 0.1f), source);
        int[] prompt = {3, 17, 5, 99, 42, 7, 120, 64, 1, 2, 3};
        for (WeightFormat f : List.of(WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.BF16, WeightFormat.F32)) {
            float[] want = logits(c, store, f, null, prompt);
            float[] written = logits(c, store, f, WeightCache.in(cacheDir), prompt);
            assertEquals(1, cacheFiles(cacheDir).size(), f + ": the first load wrote one cache file");
            Path file = cacheFiles(cacheDir).get(0);
            FileTime writtenAt = Files.getLastModifiedTime(file);
            float[] mapped = logits(c, store, f, WeightCache.in(cacheDir), prompt);
            assertArrayEquals(want, written, f + ": the load that wrote the cache");
            assertArrayEquals(want, mapped, f + ": the load that mapped it");
            assertEquals(List.of(file), cacheFiles(cacheDir), f + ": the second load wrote nothing");
            assertTrue(Files.getLastModifiedTime(file).compareTo(writtenAt) >= 0);
            Files.delete(file);
        }
    }

    @Test
    void aFileThatDoesNotMatchIsWrittenAgain() throws IOException {
        Path source = Files.writeString(dir.resolve("model.bin"), "checkpoint");
        Path cacheDir = dir.resolve("cache");
        ModelConfig c = config();
        TensorStore store = withFiles(RandomCheckpoint.create(c, 43, TensorLayout.GPT2_PREFIX, 0.1f), source);
        int[] prompt = {9, 8, 7, 6, 5};
        float[] want = logits(c, store, WeightFormat.Q8_0, null, prompt);
        logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt);
        Path file = cacheFiles(cacheDir).get(0);
        long size = Files.size(file);

        // a header that is not one: ignored, written again
        try (var ch = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("garbage!".getBytes()));
        }
        assertArrayEquals(want, logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt));
        assertEquals(size, Files.size(file), "written again whole");

        // the right header, slabs of other sizes (here: a slab's size changed): deleted, loaded from the checkpoint
        try (var ch = Files.newByteChannel(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // the header: magic, version, key, slab count, then where the slab table lies (offset, size per slab)
            ByteBuffer tableAt = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.position(8 + 4 + 64 + 4).read(tableAt);
            ByteBuffer slab0Size = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 12345);
            ch.position(tableAt.getLong(0) + 8).write(slab0Size);
        }
        assertArrayEquals(want, logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt));
        assertArrayEquals(want, logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt),
                "the file written after the mismatch maps");
    }

    @Test
    void aChangedCheckpointGetsAFileOfItsOwnAndTheFolderStaysWithinItsBound() throws IOException {
        Path source = Files.writeString(dir.resolve("model.bin"), "checkpoint");
        Path cacheDir = dir.resolve("cache");
        ModelConfig c = config();
        TensorStore store = withFiles(RandomCheckpoint.create(c, 47, TensorLayout.GPT2_PREFIX, 0.1f), source);
        int[] prompt = {1, 2, 3, 4};
        logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt);
        Path first = cacheFiles(cacheDir).get(0);
        Files.setLastModifiedTime(source, FileTime.fromMillis(Files.getLastModifiedTime(source).toMillis() + 5000));
        logits(c, store, WeightFormat.Q8_0, WeightCache.in(cacheDir), prompt);
        List<Path> both = cacheFiles(cacheDir);
        assertEquals(2, both.size(), "a new key for the changed file");
        // a bound below two files: the least recently used one goes when the next is written
        Files.setLastModifiedTime(source, FileTime.fromMillis(Files.getLastModifiedTime(source).toMillis() + 5000));
        logits(c, store, WeightFormat.Q8_0, new WeightCache(cacheDir, Files.size(first) + 1), prompt);
        List<Path> left = cacheFiles(cacheDir);
        assertEquals(1, left.size(), left.toString());
        assertNotEquals(first, left.get(0));
        // another format asked for: another file
        logits(c, store, WeightFormat.Q4_0, WeightCache.in(cacheDir), prompt);
        assertEquals(2, cacheFiles(cacheDir).size());
    }

    @Test
    void aFolderThatCannotHoldTheCacheLoadsWithoutIt() throws IOException {
        Path source = Files.writeString(dir.resolve("model.bin"), "checkpoint");
        // the cache "folder" is a file: no cache, the same logits
        Path notAFolder = Files.writeString(dir.resolve("not-a-folder"), "x");
        ModelConfig c = config();
        TensorStore store = withFiles(RandomCheckpoint.create(c, 53, TensorLayout.GPT2_PREFIX, 0.1f), source);
        int[] prompt = {4, 8, 15, 16, 23, 42};
        assertArrayEquals(logits(c, store, WeightFormat.Q4_0, null, prompt),
                logits(c, store, WeightFormat.Q4_0, WeightCache.in(notAFolder.resolve("weights")), prompt));
        assertEquals("x", Files.readString(notAFolder));
    }

    private static ModelConfig config() {
        ModelConfig q = ModelShapes.tinyQwen2();
        return new ModelConfig(q.architecture(), 64, 2, 8, 2, 16, 128, q.vocabSize(), 1024, q.normEps(), q.ropeTheta(),
                null, true, true, false, "silu", null, q.eosTokenIds(), "float32", null);
    }

    /** The logits after prefilling {@code prompt}, the weights in {@code f} on the native kernels. */
    private static float[] logits(ModelConfig c, TensorStore store, WeightFormat f, WeightCache cache, int[] prompt) {
        try (DecoderLm lm = new DecoderLm(c, new DecoderSettings("m", true, 64, 256, 0),
                JavaForward.load(c, store, "m", f, 2, Kernels.NATIVE, null, cache));
             DecodingSession s = lm.prefill(List.of(prompt))) {
            return s.logits().row(0).clone();
        }
    }

    private static List<Path> cacheFiles(Path cacheDir) throws IOException {
        try (Stream<Path> s = Files.list(cacheDir)) {
            return s.filter(p -> p.toString().endsWith(".amw")).sorted().toList();
        }
    }

    /** {@code store} as read from {@code file} (its identity keys the cache). */
    private static TensorStore withFiles(InMemoryTensorStore store, Path file) {
        return new TensorStore() {
            @Override
            public Set<String> names() {
                return store.names();
            }

            @Override
            public long[] shape(String name) {
                return store.shape(name);
            }

            @Override
            public String dtype(String name) {
                return store.dtype(name);
            }

            @Override
            public float[] readFloat32(String name) {
                return store.readFloat32(name);
            }

            @Override
            public void readRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
                store.readRows(name, firstRow, rowCount, dst, dstOffset);
            }

            @Override
            public List<Path> files() {
                return List.of(file);
            }

            @Override
            public void close() {
            }
        };
    }
}
