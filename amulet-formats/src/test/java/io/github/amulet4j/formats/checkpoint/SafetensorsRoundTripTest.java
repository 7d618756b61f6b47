package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 3);
        }
        return a;
    }

    private static InMemoryTensorStore sample() {
        return new InMemoryTensorStore()
                .put("model.embed_tokens.weight", new long[] {7, 5}, random(35, 1))
                .put("model.norm.weight", new long[] {5}, random(5, 2))
                .put("scalar", new long[] {}, new float[] {2.5f})
                .put("empty", new long[] {0, 3}, new float[0])
                .put("lm_head.weight", new long[] {7, 5}, random(35, 3));
    }

    @Test
    void f32RoundTripIsExactAndHeaderIsStandard() throws IOException {
        InMemoryTensorStore src = sample();
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, src, SafetensorsDtype.F32);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(src.names(), st.names());
            for (String n : src.names()) {
                assertArrayEquals(src.shape(n), st.shape(n), n);
                assertArrayEquals(src.readFloat32(n), st.readFloat32(n), n);
                assertEquals("F32", st.dtype(n));
            }
            assertEquals("pt", st.metadata().get("format"));
        }
        // independent parse of the layout: 8-byte LE length, JSON, 8-byte aligned data start, raw LE floats
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, (8 + n) % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"__metadata__\":{\"format\":\"pt\"}"), header);
        float first = b.getFloat((int) (8 + n));
        assertEquals(src.readFloat32("model.embed_tokens.weight")[0], first);
    }

    @Test
    void bf16AndF16StoreRoundedValues() throws IOException {
        InMemoryTensorStore src = sample();
        for (SafetensorsDtype dt : List.of(SafetensorsDtype.BF16, SafetensorsDtype.F16)) {
            Path f = dir.resolve("m-" + dt + ".safetensors");
            SafetensorsWriter.write(f, src, dt);
            try (TensorStore st = SafetensorsFile.open(f)) {
                for (String name : src.names()) {
                    float[] in = src.readFloat32(name);
                    float[] out = st.readFloat32(name);
                    assertEquals(dt.name(), st.dtype(name));
                    for (int i = 0; i < in.length; i++) {
                        float expected = dt == SafetensorsDtype.BF16
                                ? Float.intBitsToFloat(SafetensorsDtypeTest.naiveFloatToBf16(in[i]) << 16)
                                : (float) SafetensorsDtypeTest.naiveHalf(SafetensorsDtypeTest.naiveFloatToHalf(in[i]));
                        assertEquals(expected, out[i], 0.0f, name + "[" + i + "] " + dt);
                    }
                }
            }
        }
    }

    @Test
    void streamedEntriesAcrossChunkBoundaries() throws IOException {
        int n = (1 << 18) * 2 + 123; // more than two writer chunks
        TensorEntry big = new TensorEntry("big", new long[] {n}, (first, buf, count) -> {
            for (int i = 0; i < count; i++) {
                buf[i] = (float) ((first + i) % 256) - 128f; // exact in bf16
            }
        });
        Path f = dir.resolve("big.safetensors");
        SafetensorsWriter.write(f, List.of(big), SafetensorsDtype.BF16);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloat32("big");
            assertEquals(n, v.length);
            for (int i = 0; i < n; i++) {
                assertEquals((float) (i % 256) - 128f, v[i], 0.0f, "index " + i);
            }
            assertEquals(8 + 2L * n, Files.size(f) - headerLength(f));
        }
    }

    private static long headerLength(Path f) throws IOException {
        byte[] b = new byte[8];
        try (var in = Files.newInputStream(f)) {
            in.readNBytes(b, 0, 8);
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void chunkedMappingGivesTheSameValues() throws IOException {
        InMemoryTensorStore src = sample().put("odd", new long[] {3, 37}, random(111, 9));
        for (SafetensorsDtype dt : List.of(SafetensorsDtype.F32, SafetensorsDtype.F16, SafetensorsDtype.BF16)) {
            Path f = dir.resolve("c-" + dt + ".safetensors");
            SafetensorsWriter.write(f, src, dt);
            try (SafetensorsFile whole = SafetensorsFile.open(f); SafetensorsFile chunked = SafetensorsFile.open(f, 12)) {
                for (String n : src.names()) {
                    assertArrayEquals(whole.readFloat32(n), chunked.readFloat32(n), n + " " + dt);
                }
            }
        }
    }

    @Test
    void randomEntriesDoNotDependOnChunking() throws IOException {
        int n = (1 << 18) + 77;
        Path f = dir.resolve("r.safetensors");
        SafetensorsWriter.write(f, List.of(TensorEntry.random("w", new long[] {n}, 42, 0.5f)), SafetensorsDtype.F32);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloat32("w");
            double sum = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(TensorEntry.randomValue(42, i, 0.5f), v[i]);
                assertTrue(v[i] >= -0.5f && v[i] < 0.5f);
                sum += v[i];
            }
            assertTrue(Math.abs(sum / n) < 0.01, "mean " + sum / n);
            assertTrue(v[0] != v[1] && v[1] != v[2]);
        }
    }

    @Test
    void shardedRoundTripThroughCheckpointsOpen() throws IOException {
        InMemoryTensorStore src = sample();
        Path model = dir.resolve("sharded");
        Path index = SafetensorsWriter.writeSharded(model, src, SafetensorsDtype.F32, 100);
        assertEquals(model.resolve("model.safetensors.index.json"), index);
        try (TensorStore st = Checkpoints.open(model)) {
            ShardedCheckpoint sc = assertInstanceOf(ShardedCheckpoint.class, st);
            assertTrue(sc.shardCount() >= 2, "shards: " + sc.shardCount());
            assertEquals(src.names(), st.names());
            for (String n : src.names()) {
                assertArrayEquals(src.shape(n), st.shape(n));
                assertArrayEquals(src.readFloat32(n), st.readFloat32(n));
            }
        }
        assertTrue(Files.exists(model.resolve("model-00001-of-0000" + countShards(model) + ".safetensors")));
    }

    /** A sharded model named by a relative path with {@code ..} and {@code .} in it (as {@code --model ../models/x}). */
    @Test
    void shardedCheckpointOpensFromRelativePathWithDotSegments() throws IOException {
        InMemoryTensorStore src = sample();
        Path model = dir.resolve("sharded-rel");
        SafetensorsWriter.writeSharded(model, src, SafetensorsDtype.F32, 100);
        Path cwd = Path.of("").toAbsolutePath();
        Path relative = cwd.relativize(model.toAbsolutePath());
        assertTrue(relative.toString().contains(".."), relative.toString());
        for (Path p : List.of(relative, Path.of(".").resolve(relative), model.resolve("..").resolve(".").resolve("sharded-rel"))) {
            try (TensorStore st = Checkpoints.open(p)) {
                ShardedCheckpoint sc = assertInstanceOf(ShardedCheckpoint.class, st, p.toString());
                assertTrue(sc.shardCount() >= 2);
                for (String n : src.names()) {
                    assertArrayEquals(src.readFloat32(n), st.readFloat32(n), p + " " + n);
                }
            }
        }
    }

    /** A weight_map entry that climbs out of the folder is still refused when the folder path has dot segments. */
    @Test
    void shardOutsideTheFolderRefusedEvenFromDotPath() throws IOException {
        Path model = dir.resolve("m2");
        SafetensorsWriter.write(dir.resolve("outside.safetensors"),
                new InMemoryTensorStore().put("w", new long[] {1}, new float[] {1}), SafetensorsDtype.F32);
        Files.createDirectories(model);
        Files.writeString(model.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"w\":\"../outside.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(model.resolve(".").resolve("..").resolve("m2")));
        assertTrue(e.getMessage().contains("points outside the model folder"), e.getMessage());
    }

    private static long countShards(Path model) throws IOException {
        try (var s = Files.list(model)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).count();
        }
    }

    @Test
    void checkpointsOpenPrefersSingleFile() throws IOException {
        Path model = dir.resolve("single");
        SafetensorsWriter.write(model.resolve("model.safetensors"), sample(), SafetensorsDtype.F16);
        try (TensorStore st = Checkpoints.open(model)) {
            assertInstanceOf(SafetensorsFile.class, st);
            assertEquals(Set.copyOf(sample().names()), Set.copyOf(st.names()));
        }
    }
}
