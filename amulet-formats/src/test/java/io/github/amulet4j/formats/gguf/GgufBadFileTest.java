package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.formats.gguf.GgufTensorInfo;
import io.github.amulet4j.formats.gguf.GgufValueType;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Corrupt and hostile GGUF files, written byte by byte here (not by {@link GgufWriter}), each refused with a
 * message that names the file and the field; the unchanged spec opens.
 */
class GgufBadFileTest {

    @TempDir
    Path dir;

    /** The fields of a small file (two metadata pairs, one F32 tensor [2, 32]); each case changes some. */
    static final class Spec {
        int magic = GgufFile.MAGIC;
        int version = 3;
        long tensorCount = 1;
        long kvCount = 3;
        long keyLength = -1; // -1: the key's real length
        long stringLength = -1;
        int valueType = GgufValueType.STRING.id();
        long arrayLength = 3;
        int arrayType = GgufValueType.UINT32.id();
        int nestedDepth = 0;
        int boolByte = 1;
        long alignment = 32;
        int nDims = 2;
        long[] ne = {32, 2};
        int ggmlType = GgmlType.F32.id();
        long offset = 0;
        boolean duplicateKey = false;
        int dataBytes = 32 * 2 * 4;
        int cutAt = -1; // truncate the file to this many bytes
    }

    static byte[] bytes(Spec s) {
        Raw r = new Raw();
        r.u32(s.magic).u32(s.version).u64(s.tensorCount).u64(s.kvCount);
        r.key(s.duplicateKey ? "general.alignment" : "general.architecture", s.keyLength);
        r.u32(s.valueType);
        r.str("llama", s.stringLength);
        r.key("tokenizer.ggml.scores", -1).u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < s.nestedDepth; i++) {
            r.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        r.u32(s.arrayType).u64(s.arrayLength);
        for (int i = 0; i < 3; i++) {
            if (s.arrayType == GgufValueType.BOOL.id()) {
                r.u8(i == 2 ? s.boolByte : 1);
            } else {
                r.u32(i);
            }
        }
        r.key("general.alignment", -1).u32(GgufValueType.UINT32.id()).u32((int) s.alignment);
        r.key("weight", -1).u32(s.nDims);
        for (long d : s.ne) {
            r.u64(d);
        }
        r.u32(s.ggmlType).u64(s.offset);
        while (r.size() % 32 != 0) {
            r.u8(0);
        }
        for (int i = 0; i < s.dataBytes; i++) {
            r.u8(i);
        }
        byte[] all = r.out.toByteArray();
        return s.cutAt >= 0 ? Arrays.copyOf(all, s.cutAt) : all;
    }

    static Arguments bad(String name, Consumer<Spec> change, String... expected) {
        return Arguments.of(name, change, expected);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                bad("bad magic", s -> s.magic = 0x12345678, "not a GGUF file", "magic"),
                bad("version 1", s -> s.version = 1, "'version' is 1", "versions are 2 and 3"),
                bad("version 4", s -> s.version = 4, "'version' is 4"),
                bad("big-endian", s -> s.version = Integer.reverseBytes(3), "big-endian"),
                bad("huge tensor count", s -> s.tensorCount = 1L << 60, "tensor_count", "1152921504606846976"),
                bad("negative kv count", s -> s.kvCount = -1, "metadata_kv_count", "18446744073709551615"),
                bad("huge key length", s -> s.keyLength = 1L << 40, "key of metadata pair 0", "length 1099511627776"),
                bad("huge string length", s -> s.stringLength = Long.MAX_VALUE, "metadata 'general.architecture'",
                        "length 9223372036854775807"),
                bad("huge array length", s -> s.arrayLength = 1L << 50, "metadata 'tokenizer.ggml.scores' length"),
                bad("array longer than the file", s -> s.arrayLength = 100_000, "'tokenizer.ggml.scores' length",
                        "100000"),
                bad("a billion elements in a tiny file", s -> s.arrayLength = 1_000_000_000L,
                        "metadata 'tokenizer.ggml.scores' length", "1000000000", "bytes left"),
                bad("a billion strings in a tiny file", s -> {
                    s.arrayType = GgufValueType.STRING.id();
                    s.arrayLength = 1_000_000_000L;
                }, "metadata 'tokenizer.ggml.scores' length", "1000000000"),
                bad("unknown value type", s -> s.valueType = 13, "type of metadata 'general.architecture'",
                        "unknown value type id 13"),
                bad("unknown array element type", s -> s.arrayType = 99, "tokenizer.ggml.scores' element type",
                        "unknown value type id 99"),
                bad("bool not 0 or 1", s -> {
                    s.arrayType = GgufValueType.BOOL.id();
                    s.boolByte = 7;
                }, "metadata 'tokenizer.ggml.scores'", "value 7"),
                bad("arrays nested too deep", s -> s.nestedDepth = 6, "tokenizer.ggml.scores", "nests arrays deeper"),
                bad("duplicate key", s -> s.duplicateKey = true, "'general.alignment' appears twice"),
                bad("alignment not a power of two", s -> s.alignment = 24, "'general.alignment'", "power of two"),
                bad("unknown ggml type", s -> s.ggmlType = 99, "tensor 'weight'", "unknown ggml type id 99"),
                bad("too many dimensions", s -> {
                    s.nDims = 5;
                    s.ne = new long[] {32, 1, 1, 1, 2};
                }, "tensor 'weight' n_dims is 5"),
                bad("zero dimension", s -> s.ne = new long[] {32, 0}, "tensor 'weight' ne[1]"),
                bad("dimensions overflow", s -> s.ne = new long[] {1L << 40, 1L << 40}, "tensor 'weight'",
                        "overflow"),
                bad("row not a multiple of the block", s -> {
                    s.ggmlType = GgmlType.Q8_0.id();
                    s.ne = new long[] {31, 2};
                }, "tensor 'weight'", "block size 32"),
                bad("offset not aligned", s -> s.offset = 8, "tensor 'weight' offset 8", "alignment 32"),
                bad("offset past the end", s -> s.offset = 1L << 40, "tensor 'weight' data", "past the end"),
                bad("tensor data cut short", s -> s.dataBytes = 100, "tensor 'weight' data", "truncated"),
                bad("truncated in the metadata", s -> s.cutAt = 100, "truncated at", "tokenizer.ggml.scores"),
                bad("truncated in the tensor infos", s -> s.cutAt = 180, "truncated at", "tensor 'weight' ne[0]"),
                bad("empty file", s -> s.cutAt = 0, "truncated at magic"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedNamingFileAndField(String name, Consumer<Spec> change, String[] expected) throws IOException {
        Spec s = new Spec();
        change.accept(s);
        Path f = dir.resolve("bad-" + name.replace(' ', '-') + ".gguf");
        Files.write(f, bytes(s));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        for (String part : expected) {
            assertTrue(e.getMessage().contains(part), "message should contain '" + part + "': " + e.getMessage());
        }
    }

    @Test
    void unchangedSpecOpens() throws IOException {
        Path f = dir.resolve("good.gguf");
        Files.write(f, bytes(new Spec()));
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals("llama", g.metadata().string("general.architecture"));
            assertEquals(32, g.alignment());
            GgufTensorInfo t = g.tensor("weight");
            assertEquals(GgmlType.F32, t.type());
            assertArrayEquals(new long[] {2, 32}, t.shape());
            ByteBuffer b = g.map(t, 0, t.byteSize());
            assertEquals(256, b.capacity());
            assertEquals(0, t.offset() % 32);
            assertEquals(0x03020100, b.getInt(0));
        }
    }

    @Test
    void arrayOverTheCapIsRefusedWhateverTheFileSize() throws IOException {
        // a sparse file large enough for the count: only the cap refuses it, before anything is allocated
        Spec s = new Spec();
        s.arrayType = GgufValueType.UINT8.id();
        s.arrayLength = GgufFile.MAX_ARRAY_LENGTH + 1L;
        Path f = dir.resolve("over-cap.gguf");
        Files.write(f, bytes(s));
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(GgufFile.MAX_ARRAY_LENGTH + (1L << 20));
        }
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'tokenizer.ggml.scores'")
                && e.getMessage().contains("MAX_ARRAY_LENGTH") && e.getMessage().contains("16777217"), e.getMessage());
    }

    @Test
    void overlappingTensorDataIsRefused() throws IOException {
        // two F32 [32] tensors (128 bytes each) at offsets 0 and 64: the second starts inside the first
        Raw r = new Raw();
        r.u32(GgufFile.MAGIC).u32(3).u64(2).u64(1);
        r.key("general.architecture", -1).u32(GgufValueType.STRING.id()).str("llama", -1);
        for (String[] t : new String[][] {{"a", "0"}, {"b", "64"}}) {
            r.key(t[0], -1).u32(1).u64(32).u32(GgmlType.F32.id()).u64(Long.parseLong(t[1]));
        }
        while (r.size() % 32 != 0) {
            r.u8(0);
        }
        for (int i = 0; i < 256; i++) {
            r.u8(i);
        }
        Path f = dir.resolve("overlap.gguf");
        Files.write(f, r.out.toByteArray());
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("tensor 'a'")
                && e.getMessage().contains("overlaps tensor 'b'"), e.getMessage());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.gguf");
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f));
        assertTrue(e.getMessage().contains("absent.gguf"), e.getMessage());
    }

    /** Little-endian bytes. */
    private static final class Raw {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        int size() {
            return out.size();
        }

        Raw u8(int v) {
            out.write(v);
            return this;
        }

        Raw u32(int v) {
            b.clear();
            out.write(b.putInt(v).array(), 0, 4);
            return this;
        }

        Raw u64(long v) {
            b.clear();
            out.write(b.putLong(v).array(), 0, 8);
            return this;
        }

        Raw key(String k, long length) {
            return str(k, length);
        }

        Raw str(String s, long length) {
            byte[] a = s.getBytes(StandardCharsets.UTF_8);
            u64(length >= 0 ? length : a.length);
            out.write(a, 0, a.length);
            return this;
        }
    }
}
