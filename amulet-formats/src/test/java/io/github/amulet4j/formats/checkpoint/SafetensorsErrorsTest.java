package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsErrorsTest {

    @TempDir
    Path dir;

    /** A file with the given header text and data length (header not padded). */
    private Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    private static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) {
            assertTrue(t.getMessage().contains(p), "message should contain '" + p + "': " + t.getMessage());
        }
    }

    @Test
    void validFileReadsBack() throws IOException {
        Path f = raw("ok.safetensors", "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12);
        // the data section by hand: a = [1.5, -2] (0x3FC00000, 0xC0000000), b = [0.25] (0x3E800000), little-endian
        byte[] bytes = Files.readAllBytes(f);
        byte[] data = {0, 0, (byte) 0xC0, 0x3F, 0, 0, 0, (byte) 0xC0, 0, 0, (byte) 0x80, 0x3E};
        System.arraycopy(data, 0, bytes, bytes.length - 12, 12);
        Files.write(f, bytes);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Set.of("a", "b"), st.names());
            assertTrue(st.contains("a") && !st.contains("c"));
            assertArrayEquals(new long[] {2}, st.shape("a"));
            assertEquals("F32", st.dtype("a"));
            assertArrayEquals(new float[] {1.5f, -2f}, st.readFloat32("a"));
            assertArrayEquals(new float[] {0.25f}, st.readFloat32("b"));
        }
    }

    @Test
    void tooShortFile() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "short.safetensors", "truncated");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path f = dir.resolve("trunc.safetensors");
        Files.write(f, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(500).array());
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "trunc.safetensors", "500");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        Path f = dir.resolve("huge.safetensors");
        Files.write(f, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "huge.safetensors", "header length");
    }

    @Test
    void invalidJson() throws IOException {
        Path f = raw("bad.safetensors", "{\"a\": {\"dtype\": ", 0);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "bad.safetensors", "JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        Path f = raw("q.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "q.safetensors", "'w'", "F8_E4M3");
    }

    @Test
    void shapeInconsistentWithOffsets() throws IOException {
        Path f = raw("shape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,16]}}", 16);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)),
                "shape.safetensors", "'w'", "[3, 2]", "24");
    }

    @Test
    void offsetsBeyondData() throws IOException {
        Path f = raw("cut.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "cut.safetensors", "'w'", "truncated");
    }

    @Test
    void shapeProductsThatOverflowNameTheFileAndTensor() throws IOException {
        // 2^32 * 2^32 elements overflow a long; 2^62 elements of 4 bytes overflow the byte size
        for (String shape : new String[] {"[4294967296,4294967296]", "[4611686018427387904]",
                "[9223372036854775807,2]"}) {
            Path f = raw("overflow.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape
                    + ",\"data_offsets\":[0,4]}}", 4);
            CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f).close(),
                    shape);
            assertMessage(e, f.toString(), "tensor 'w'", "shape");
        }
    }

    @Test
    void overlappingTensors() throws IOException {
        Path f = raw("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "overlap.safetensors", "'a'", "'b'");
    }

    @Test
    void missingField() throws IOException {
        Path f = raw("nofield.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f)), "nofield.safetensors", "'shape'");
    }

    @Test
    void missingTensorNamesFile() throws IOException {
        Path f = raw("ok.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> st.readFloat32("b")), "'b'", "ok.safetensors");
        }
    }

    @Test
    void missingFileAndEmptyFolder() throws IOException {
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(dir.resolve("none.safetensors"))),
                "none.safetensors");
        Files.createFile(dir.resolve("pytorch_model.bin"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertMessage(e, dir.toString(), "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin");
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.open(dir.resolve("nope"))), "nope");
    }

    @Test
    void shardedIndexErrors() throws IOException {
        Path model = dir.resolve("m");
        Files.createDirectories(model);
        Path index = model.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\":{},\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}");
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.open(model)),
                "model-00001-of-00002.safetensors", "'w'", "not found");
        Files.writeString(index, "{\"metadata\":{}}");
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.open(model)), "weight_map", "index.json");
        Files.writeString(index, "[1,2");
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.open(model)), "index.json", "JSON");
        // a shard that lacks the tensor the index maps to it
        SafetensorsWriter.write(model.resolve("s.safetensors"),
                new InMemoryTensorStore().put("x", new long[] {1}, new float[] {1}), SafetensorsDtype.F32);
        Files.writeString(index, "{\"weight_map\":{\"w\":\"s.safetensors\"}}");
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.open(model)), "'w'", "s.safetensors");
    }

    @Test
    void writerRejectsUnwritableDtype() {
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("x.safetensors"),
                new InMemoryTensorStore(), SafetensorsDtype.I64));
    }
}
