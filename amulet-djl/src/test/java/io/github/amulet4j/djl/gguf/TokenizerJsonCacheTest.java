package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter;
import io.github.amulet4j.djl.tokenizer.TokenizerJsonCache;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufTokenizer;
import io.github.amulet4j.formats.gguf.GgufTokenizerExport;
import io.github.amulet4j.formats.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tokenizer JSON cache of GGUF files ({@link TokenizerJsonCache}): a first load writes the JSON the metadata
 * makes, a later load reads it and encodes and decodes every text as a tokenizer built from the metadata does; a
 * cached file the tokenizers library rejects is replaced; a changed GGUF file gets another entry; entries unused for
 * a month are deleted when another is written; an unwritable folder loads without a cache.
 */
class TokenizerJsonCacheTest {

    @TempDir
    Path dir;

    private Path gguf(String name) throws IOException {
        Path folder = dir.resolve(name);
        TinyTokenizerWriter.builder().vocabSize(600).maxMerges(300).build().writeTo(folder);
        GgufWriter w = new GgufWriter().putString("general.architecture", "qwen2");
        GgufTokenizerExport.put(w, folder, 640);
        Path f = dir.resolve(name + ".gguf");
        w.write(f);
        return f;
    }

    private static List<Path> cached(Path cacheDir) throws IOException {
        if (!Files.isDirectory(cacheDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(cacheDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tokenizer.json")).sorted().toList();
        }
    }

    /** The ids and the decoded text of every text, through a tokenizer loaded with {@code cache}. */
    private static void assertSameTokenizer(Path gguf, TokenizerJsonCache cache) throws IOException {
        try (GgufFile g = GgufFile.open(gguf);
             HfTokenizer want = HfTokenizer.fromGguf(GgufTokenizer.of(g), gguf);
             HfTokenizer got = HfTokenizer.fromGguf(GgufTokenizer.of(g), gguf, cache)) {
            assertEquals(want.vocabularySize(), got.vocabularySize());
            for (String text : GgufTokenizerTest.TEXTS) {
                int[] ids = want.encode(text);
                assertArrayEquals(ids, got.encode(text), text);
                assertEquals(want.decode(ids), got.decode(ids), text);
            }
        }
    }

    @Test
    void aSecondLoadReadsTheCachedJsonAndEncodesTheSame() throws IOException {
        Path gguf = gguf("a");
        Path cacheDir = dir.resolve("cache");
        TokenizerJsonCache cache = TokenizerJsonCache.in(cacheDir);
        assertNull(cache.find(gguf));
        assertSameTokenizer(gguf, cache);
        List<Path> files = cached(cacheDir);
        assertEquals(1, files.size(), "the first load wrote the JSON");
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals(GgufTokenizer.of(g).json(), Files.readString(files.get(0), StandardCharsets.UTF_8));
        }
        Files.setLastModifiedTime(files.get(0), FileTime.fromMillis(1_000_000L));
        assertSameTokenizer(gguf, cache);
        assertTrue(Files.getLastModifiedTime(files.get(0)).toMillis() > 1_000_000L, "the second load used it");
        assertEquals(files, cached(cacheDir), "and wrote nothing new");
    }

    @Test
    void aCachedFileTheLibraryRejectsIsReplaced() throws IOException {
        Path gguf = gguf("b");
        TokenizerJsonCache cache = TokenizerJsonCache.in(dir.resolve("cache"));
        assertSameTokenizer(gguf, cache);
        Path file = cached(cache.dir()).get(0);
        Files.writeString(file, "{\"version\": \"1.0\", \"model\": {\"type\": \"nonsense\"");
        assertSameTokenizer(gguf, cache);
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals(GgufTokenizer.of(g).json(), Files.readString(file, StandardCharsets.UTF_8),
                    "written again from the metadata");
        }
    }

    @Test
    void aChangedFileGetsAnotherEntryAndOldEntriesAreDeleted() throws IOException {
        Path gguf = gguf("c");
        TokenizerJsonCache cache = TokenizerJsonCache.in(dir.resolve("cache"));
        assertSameTokenizer(gguf, cache);
        Path first = cached(cache.dir()).get(0);
        Files.setLastModifiedTime(gguf, FileTime.fromMillis(Files.getLastModifiedTime(gguf).toMillis() + 5_000));
        assertNull(cache.find(gguf), "a changed file does not find the old entry");
        // the old entry unused for more than a month: deleted when the next is written
        Files.setLastModifiedTime(first, FileTime.fromMillis(System.currentTimeMillis() - 31L * 86_400_000L));
        assertSameTokenizer(gguf, cache);
        List<Path> now = cached(cache.dir());
        assertEquals(1, now.size());
        assertNotEquals(first, now.get(0));
        assertFalse(Files.exists(first));
        assertNotNull(cache.find(gguf));
    }

    @Test
    void theMetadatasErrorComesFirstWithACachedJson() throws IOException {
        Path gguf = gguf("e");
        TokenizerJsonCache cache = TokenizerJsonCache.in(dir.resolve("cache"));
        assertSameTokenizer(gguf, cache);
        assertNotNull(cache.find(gguf));
        io.github.amulet4j.formats.gguf.GgufFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.github.amulet4j.formats.gguf.GgufFormatException.class, () -> HfTokenizer.fromGguf(() -> {
                    throw new io.github.amulet4j.formats.gguf.GgufFormatException(gguf + ": metadata 'x' is bad");
                }, gguf, cache));
        assertTrue(e.getMessage().contains("metadata 'x'"), e.getMessage());
    }

    /** A parse started before the load ({@link HfTokenizer#prefetchGguf}) gives the same tokenizer. */
    @Test
    void aPrefetchedParseGivesTheSameTokenizer() throws IOException {
        Path gguf = gguf("f");
        TokenizerJsonCache cache = TokenizerJsonCache.in(dir.resolve("cache"));
        HfTokenizer.prefetchGguf(gguf, cache); // nothing cached yet: nothing started
        assertSameTokenizer(gguf, cache);
        HfTokenizer.prefetchGguf(gguf, cache);
        assertSameTokenizer(gguf, cache);
        // a prefetch of another file is not taken
        Path other = gguf("g");
        assertSameTokenizer(other, cache);
        HfTokenizer.prefetchGguf(other, cache);
        assertSameTokenizer(gguf, cache);
        assertSameTokenizer(other, cache);
    }

    @Test
    void aFolderThatCannotBeWrittenLoadsWithoutACache() throws IOException {
        Path gguf = gguf("d");
        Path notAFolder = dir.resolve("file");
        Files.writeString(notAFolder, "x");
        TokenizerJsonCache cache = TokenizerJsonCache.in(notAFolder.resolve("cache"));
        assertSameTokenizer(gguf, cache);
        assertNull(cache.find(gguf));
    }
}
