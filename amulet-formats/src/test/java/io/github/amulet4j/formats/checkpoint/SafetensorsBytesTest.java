package io.github.amulet4j.formats.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * F16 and BF16 against byte vectors computed by hand from the formats (not a writer-to-reader round trip):
 * the bytes the writer puts in the file, and the values the reader makes of bytes written here.
 */
class SafetensorsBytesTest {

    @TempDir
    Path dir;

    private static final float[] VALUES = {1.0f, -2.0f, 0.5f, 65504f, 1f / 3};

    /**
     * Half: 1 = 0x3C00, -2 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF (largest finite), 1/3 -> 0x3555
     * (0.333251953125; 0x3556 = 0.33349609375 is farther). Little-endian, low byte first.
     */
    private static final String F16_BYTES = "003c00c00038ff7b5535";

    /**
     * bfloat16 = the upper half of the float32 bits, rounded to nearest even: 1 = 0x3F80, -2 = 0xC000,
     * 0.5 = 0x3F00, 65504 = 0x477FE000 -> 0x4780 (lower half 0xE000 rounds up), 1/3 = 0x3EAAAAAB -> 0x3EAB.
     */
    private static final String BF16_BYTES = "803f00c0003f8047ab3e";

    /** The data section of a single-tensor file written by {@link SafetensorsWriter}. */
    private static byte[] dataOf(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return Arrays.copyOfRange(bytes, (int) (8 + n), bytes.length);
    }

    @Test
    void writerStoresTheHandComputedBytes() throws IOException {
        Path f16 = dir.resolve("f16.safetensors");
        SafetensorsWriter.write(f16, List.of(TensorEntry.of("t", new long[] {5}, VALUES)), SafetensorsDtype.F16);
        assertEquals(F16_BYTES, HexFormat.of().formatHex(dataOf(f16)));
        Path bf16 = dir.resolve("bf16.safetensors");
        SafetensorsWriter.write(bf16, List.of(TensorEntry.of("t", new long[] {5}, VALUES)), SafetensorsDtype.BF16);
        assertEquals(BF16_BYTES, HexFormat.of().formatHex(dataOf(bf16)));
    }

    /** A file of one tensor with the given dtype, shape [n] and raw data bytes. */
    private Path file(String name, String dtype, int n, byte[] data) throws IOException {
        String header = "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + n + "],\"data_offsets\":[0," + data.length + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    private float[] read(Path f) throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            return st.readFloat32("t");
        }
    }

    @Test
    void readerDecodesHandWrittenBytes() throws IOException {
        // half: the values above, then 0x0001 = 2^-24 (smallest subnormal), 0x7C00 = +inf, 0x0400 = 2^-14
        // (smallest normal), 0x03FF = 1023 * 2^-24 (largest subnormal), 0x8000 = -0
        byte[] half = HexFormat.of().parseHex(F16_BYTES + "0100007c0004ff030080");
        float[] got = read(file("f16.safetensors", "F16", 10, half));
        float[] want = {1f, -2f, 0.5f, 65504f, 0.333251953125f, 0x1p-24f, Float.POSITIVE_INFINITY, 0x1p-14f,
            1023 * 0x1p-24f, -0f};
        assertArrayEquals(want, got);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[9]), "negative zero keeps its sign");

        // bfloat16: the values above (as rounded), then 0x4049 = 3.140625 and 0xFF80 = -inf
        byte[] bf = HexFormat.of().parseHex(BF16_BYTES + "494080ff");
        assertArrayEquals(new float[] {1f, -2f, 0.5f, 65536f, 0.333984375f, 3.140625f, Float.NEGATIVE_INFINITY},
                read(file("bf16.safetensors", "BF16", 7, bf)));

        // float32, little-endian: 1.5 = 0x3FC00000, -0.25 = 0xBE800000
        assertArrayEquals(new float[] {1.5f, -0.25f},
                read(file("f32.safetensors", "F32", 2, HexFormat.of().parseHex("0000c03f000080be"))));
    }
}
