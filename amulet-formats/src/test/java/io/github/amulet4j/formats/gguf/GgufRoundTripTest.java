package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufArray;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.formats.gguf.GgufMetadata;
import io.github.amulet4j.formats.gguf.GgufTensorInfo;
import io.github.amulet4j.formats.gguf.GgufValueType;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metadata of every value type and tensors of every written type, written by {@link GgufWriter} and read back. */
class GgufRoundTripTest {

    @TempDir
    Path dir;

    /**
     * A STRING array read from a file keeps its bytes until asked for: single elements decode alone, the whole array
     * once, and both give what was written (multi-byte UTF-8, empty strings, a string longer than the reader's
     * 64 KiB window, many elements); the array equals one built from the strings.
     */
    @Test
    void stringArraysDecodeWhenAskedForAndEqualWhatWasWritten() throws IOException {
        StringBuilder longOne = new StringBuilder();
        while (longOne.length() < 200_000) {
            longOne.append("ü▁x😀");
        }
        java.util.List<String> strings = new java.util.ArrayList<>(List.of("a", "", "héllo ▁ 😀", longOne.toString()));
        for (int i = 0; i < 40_000; i++) {
            strings.add("t" + i + (i % 7 == 0 ? "Ġé" : ""));
        }
        Path f = dir.resolve("strings.gguf");
        new GgufWriter().putStrings("tokens", strings).putInts("after", new int[] {1, -2, 3}).write(f);
        try (GgufFile g = GgufFile.open(f)) {
            GgufArray a = g.metadata().array("tokens");
            assertEquals(strings.size(), a.size());
            for (int i : new int[] {3, 0, 2, 1, 40_003, strings.size() - 1}) {
                assertEquals(strings.get(i), a.string(i), "element " + i + " alone");
            }
            assertThrows(ArrayIndexOutOfBoundsException.class, () -> a.string(strings.size()));
            assertArrayEquals(strings.toArray(new String[0]), a.strings());
            assertTrue(a.strings() == a.strings(), "decoded once");
            assertEquals(strings.get(3), a.string(3));
            assertEquals(new GgufArray(GgufValueType.STRING, strings.toArray(new String[0])), a);
            assertArrayEquals(new int[] {1, -2, 3}, g.metadata().ints("after"), "the next value read after it");
        }
    }

    @Test
    void everyValueTypeAndTensorTypeReadsBack() throws IOException {
        float[] values = new float[64 * 3];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i * 0.37) * (1 + i % 5);
        }
        GgufWriter w = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 250)
                .put("i8", GgufValueType.INT8, -5)
                .put("u16", GgufValueType.UINT16, 65000)
                .put("i16", GgufValueType.INT16, -30000)
                .putU32("u32", 4_000_000_000L)
                .put("i32", GgufValueType.INT32, -7)
                .putF32("f32", 0.25f)
                .putBool("bool", true)
                .putString("str", "héllo ▁ 😀")
                .put("u64", GgufValueType.UINT64, 1L << 40)
                .put("i64", GgufValueType.INT64, -(1L << 40))
                .put("f64", GgufValueType.FLOAT64, 1e-300)
                .putStrings("strings", List.of("a", "", "ü"))
                .putFloats("floats", new float[] {1.5f, -2f})
                .putInts("ints", new int[] {3, -4})
                .put("nested", GgufValueType.ARRAY, new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                        new GgufArray(GgufValueType.BOOL, new boolean[] {true, false}),
                        new GgufArray(GgufValueType.UINT64, new long[] {9})}))
                .putU32("general.alignment", 64);
        for (GgmlType t : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0)) {
            w.tensor("t." + t, t, new long[] {3, 64}, values);
        }
        w.tensor("vector", GgmlType.F32, new long[] {5}, new float[] {1, 2, 3, 4, 5});
        Path f = dir.resolve("all.gguf");
        w.write(f);

        try (GgufFile g = GgufFile.open(f)) {
            GgufMetadata m = g.metadata();
            assertEquals(3, g.version());
            assertEquals(64, g.alignment());
            assertEquals(250, m.integer("u8"));
            assertEquals(-5, m.integer("i8"));
            assertEquals(65000, m.integer("u16"));
            assertEquals(-30000, m.integer("i16"));
            assertEquals(4_000_000_000L, m.integer("u32"));
            assertEquals(-7, m.integer("i32"));
            assertEquals(0.25, m.optNumber("f32", 0));
            assertEquals(true, m.optBool("bool", false));
            assertEquals("héllo ▁ 😀", m.string("str"));
            assertEquals(1L << 40, m.integer("u64"));
            assertEquals(-(1L << 40), m.integer("i64"));
            assertEquals(1e-300, m.optNumber("f64", 0));
            assertArrayEquals(new String[] {"a", "", "ü"}, m.strings("strings"));
            assertArrayEquals(new float[] {1.5f, -2f}, m.floats("floats"));
            assertArrayEquals(new int[] {3, -4}, m.ints("ints"));
            GgufArray[] nested = (GgufArray[]) m.array("nested").values();
            assertArrayEquals(new boolean[] {true, false}, (boolean[]) nested[0].values());
            assertArrayEquals(new long[] {9}, (long[]) nested[1].values());
            assertEquals(GgufValueType.UINT16, m.type("u16"));
            assertEquals(List.of("u8", "i8", "u16"), m.keys().stream().limit(3).toList());
            // typed getters name the file and the key
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> m.string("u8"));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'u8'"), e.getMessage());
            e = assertThrows(GgufFormatException.class, () -> m.positiveInt("absent"));
            assertTrue(e.getMessage().contains("missing metadata 'absent'"), e.getMessage());

            assertEquals(0, g.dataStart() % 64);
            for (GgmlType t : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0)) {
                GgufTensorInfo info = g.tensor("t." + t);
                assertEquals(t, info.type());
                assertArrayEquals(new long[] {3, 64}, info.shape());
                assertArrayEquals(new long[] {64, 3}, info.ne());
                assertEquals(0, info.offset() % 64);
                assertEquals(t.byteSize(192), info.byteSize());
                float[] got = new float[192];
                ByteBuffer data = g.map(info, 0, info.byteSize());
                GgmlBlocks.decode(t, data, 0, got, 0, 192);
                for (int i = 0; i < 192; i++) {
                    float want = switch (t) {
                        case F32 -> values[i];
                        case F16 -> SafetensorsDtype.halfToFloat(SafetensorsDtype.floatToHalf(values[i]));
                        case BF16 -> SafetensorsDtype.bf16ToFloat(SafetensorsDtype.floatToBf16(values[i]));
                        default -> Float.NaN;
                    };
                    if (Float.isNaN(want)) {
                        assertEquals(values[i], got[i], 5 * 1.07 / (t == GgmlType.Q8_0 ? 127 : 8), t + " " + i);
                    } else {
                        assertEquals(want, got[i], 0f, t + " " + i);
                    }
                }
            }
            assertArrayEquals(new long[] {5}, g.tensor("vector").shape());
            long end = g.tensor("vector").offset() + g.tensor("vector").byteSize();
            assertTrue(end <= Files.size(f));
        }
    }
}
