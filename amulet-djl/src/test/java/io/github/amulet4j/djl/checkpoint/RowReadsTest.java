package io.github.amulet4j.djl.checkpoint;

import io.github.amulet4j.formats.checkpoint.SafetensorsSeams;

import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsFile;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.TensorStore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTensorStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TensorStore#readRows} of every store equals the same rows of {@link TensorStore#readFloat32}. */
class RowReadsTest {

    @TempDir
    Path dir;

    /** Every tensor read back in uneven row ranges (1, 2, 3, ... rows) equals its whole read. */
    private static void assertRowReadsMatch(TensorStore store) {
        for (String name : store.names()) {
            long[] shape = store.shape(name);
            float[] whole = store.readFloat32(name);
            long rows = shape.length == 0 ? 1 : shape[0];
            int rowLength = (int) (whole.length / Math.max(1, rows));
            float[] pieced = new float[whole.length + 3];
            int step = 1;
            for (long r = 0; r < rows; r += step, step++) {
                int count = (int) Math.min(step, rows - r);
                store.readRows(name, r, count, pieced, 3 + (int) r * rowLength);
            }
            assertArrayEquals(whole, Arrays.copyOfRange(pieced, 3, pieced.length), name + " of " + store);
        }
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void safetensorsInMemoryAndShardedStores() throws IOException {
        InMemoryTensorStore src = new InMemoryTensorStore()
                .put("m", new long[] {37, 11}, random(37 * 11, 1))
                .put("cube", new long[] {5, 3, 4}, random(60, 2))
                .put("v", new long[] {9}, random(9, 3));
        assertRowReadsMatch(src);
        for (SafetensorsDtype dtype : List.of(SafetensorsDtype.F32, SafetensorsDtype.BF16, SafetensorsDtype.F16)) {
            Path f = dir.resolve(dtype + ".safetensors");
            SafetensorsWriter.write(f, src, dtype);
            // regions of 40 bytes: a read of a few rows spans several mappings
            try (SafetensorsFile st = SafetensorsSeams.open(f, 40)) {
                assertRowReadsMatch(st);
            }
        }
        Path sharded = dir.resolve("sharded");
        SafetensorsWriter.writeSharded(sharded, src, SafetensorsDtype.F32, 200);
        try (TensorStore st = Checkpoints.open(sharded)) {
            assertRowReadsMatch(st);
        }
    }

    @Test
    void ggufStoresIncludingPermutedAndTransposedTensors() throws IOException {
        for (RandomModelFolder.Shape shape : List.of(RandomModelFolder.Shape.TINY_LLAMA, RandomModelFolder.Shape.TINY_GPT2)) {
            Path folder = dir.resolve(shape.id());
            RandomModelFolder.write(folder, shape, 5, SafetensorsDtype.F32);
            for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0)) {
                Path gguf = dir.resolve(shape.id() + "-" + type + ".gguf");
                GgufModelWriter.convertFolder(folder, gguf, type);
                try (GgufTensorStore store = GgufTensorStore.open(gguf)) {
                    assertRowReadsMatch(store);
                }
            }
        }
    }

    @Test
    void rowsOutsideTheTensorAreRefusedNamingIt() {
        InMemoryTensorStore src = new InMemoryTensorStore().put("m", new long[] {4, 2}, random(8, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> src.readRows("m", 3, 2, new float[4], 0));
        assertTrue(e.getMessage().contains("rows 3..5 are outside tensor 'm' of shape [4, 2]"), e.getMessage());
    }
}
