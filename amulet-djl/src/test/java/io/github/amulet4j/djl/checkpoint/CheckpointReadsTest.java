package io.github.amulet4j.djl.checkpoint;

import io.github.amulet4j.formats.checkpoint.SafetensorsSeams;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsFile;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.TensorEntry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTensorStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a checkpoint leaves none of its file mapped: a memory-mapped region stays mapped, its pages counted in
 * resident memory, until a garbage collection happens to find it, so tensors are read, not mapped.
 */
class CheckpointReadsTest {

    @TempDir
    Path dir;

    /** Mappings of {@code file} in this process, from {@code /proc/self/maps}. */
    private static long mappingsOf(Path file) throws IOException {
        String name = file.toRealPath().toString();
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.endsWith(" " + name)).count();
        }
    }

    @Test
    void safetensorsReadsLeaveNoMapping() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc");
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f;
        }
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, List.of(TensorEntry.of("w", new long[] {64, 64}, values)), SafetensorsDtype.F32);
        // small regions: the tensor is read in 16 pieces
        try (SafetensorsFile st = SafetensorsSeams.open(f, 1024)) {
            assertArrayEquals(values, st.readFloat32("w"));
            assertEquals(0, mappingsOf(f), "regions of " + f + " still mapped after the read");
        }
    }

    @Test
    void ggufReadsLeaveNoMapping() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc");
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_LLAMA, 5, SafetensorsDtype.F32);
        Path gguf = dir.resolve("tiny.gguf");
        GgufModelWriter.convertFolder(folder, gguf, GgmlType.Q8_0);
        try (GgufTensorStore store = GgufTensorStore.open(gguf)) {
            for (String name : store.names()) {
                store.readFloat32(name);
            }
            assertEquals(0, mappingsOf(gguf), "regions of " + gguf + " still mapped after reading every tensor");
        }
    }
}
