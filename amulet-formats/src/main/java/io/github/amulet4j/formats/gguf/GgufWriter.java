package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a GGUF file (version 3, little-endian): metadata of any value type and tensors in F32, F16, BF16,
 * Q8_0 or Q4_0 (quantized as llama.cpp's reference {@code quantize_row_*_ref} does), or raw block bytes of any
 * type. Everything is held in memory until {@link #write}: meant for tests, random models and small conversions.
 */
public final class GgufWriter {

    private final Map<String, GgufValueType> types = new LinkedHashMap<>();
    private final Map<String, Object> values = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private record Tensor(String name, GgmlType type, long[] ne, byte[] data) {
    }

    /** A writer with no metadata and no tensors. */
    public GgufWriter() {
    }

    /** A metadata value of an explicit type: see {@link GgufMetadata} for the Java type each takes. */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        Objects.requireNonNull(key, "key");
        types.put(key, Objects.requireNonNull(type, "type"));
        values.put(key, Objects.requireNonNull(value, "value"));
        if ("general.alignment".equals(key)) {
            alignment = Math.toIntExact(((Number) value).longValue());
        }
        return this;
    }

    /** A STRING value. */
    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    /** A UINT32 value. */
    public GgufWriter putU32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    /** A FLOAT32 value. */
    public GgufWriter putF32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    /** A BOOL value. */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    /** An array of strings. */
    public GgufWriter putStrings(String key, List<String> value) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, value.toArray(new String[0])));
    }

    /** An array of FLOAT32. */
    public GgufWriter putFloats(String key, float[] value) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, value.clone()));
    }

    /** An array of INT32. */
    public GgufWriter putInts(String key, int[] value) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, value.clone()));
    }

    /**
     * A tensor of row-major {@code shape} (PyTorch order) from float32 values, stored as {@code type} (F32, F16,
     * BF16, Q8_0 or Q4_0; the quantized types need the last dimension to be a multiple of 32).
     */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, float[] values) {
        long[] ne = reverse(shape);
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " needs " + n
                    + " values, got " + values.length);
        }
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": last dimension " + ne[0]
                    + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        return tensorBytes(name, type, shape, encode(type, values));
    }

    /** A tensor of row-major {@code shape} from its encoded bytes (any type). */
    public GgufWriter tensorBytes(String name, GgmlType type, long[] shape, byte[] data) {
        tensors.add(new Tensor(name, type, reverse(shape), data.clone()));
        return this;
    }

    /** Encodes float32 values as {@code type}. */
    public static byte[] encode(GgmlType type, float[] v) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.byteSize(v.length))).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (float x : v) {
                    out.putFloat(x);
                }
            }
            case F16 -> {
                for (float x : v) {
                    out.putShort(SafetensorsDtype.floatToHalf(x));
                }
            }
            case BF16 -> {
                for (float x : v) {
                    out.putShort(SafetensorsDtype.floatToBf16(x));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < v.length; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(v[b + j]));
                    }
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    out.putShort(SafetensorsDtype.floatToHalf(d));
                    for (int j = 0; j < 32; j++) {
                        out.put((byte) roundHalfAway(v[b + j] * id));
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < v.length; b += 32) {
                    float amax = 0;
                    float max = 0;
                    for (int j = 0; j < 32; j++) {
                        if (amax < Math.abs(v[b + j])) {
                            amax = Math.abs(v[b + j]);
                            max = v[b + j];
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0 ? 1f / d : 0f;
                    out.putShort(SafetensorsDtype.floatToHalf(d));
                    for (int j = 0; j < 16; j++) {
                        int x0 = Math.min(15, (int) (byte) (int) (v[b + j] * id + 8.5f));
                        int x1 = Math.min(15, (int) (byte) (int) (v[b + j + 16] * id + 8.5f));
                        out.put((byte) (x0 | (x1 << 4)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("cannot quantize to " + type + "; use F32, F16, BF16, Q8_0"
                    + " or Q4_0, or tensorBytes with encoded blocks");
        }
        return out.array();
    }

    private static int roundHalfAway(float x) {
        return (int) (Math.signum(x) * Math.floor(Math.abs(x) + 0.5f));
    }

    private static long[] reverse(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }

    /** Writes the file (replacing one of the same name). */
    public void write(Path file) throws IOException {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            Out out = new Out(os);
            out.u32(GgufFile.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(values.size());
            for (Map.Entry<String, Object> e : values.entrySet()) {
                out.string(e.getKey());
                GgufValueType t = types.get(e.getKey());
                out.u32(t.id());
                out.value(t, e.getValue());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name());
                out.u32(t.ne().length);
                for (long d : t.ne()) {
                    out.u64(d);
                }
                out.u32(t.type().id());
                out.u64(offset);
                offset = align(offset + t.data().length);
            }
            out.pad(align(out.written) - out.written);
            for (Tensor t : tensors) {
                out.bytes(t.data());
                out.pad(align(t.data().length) - t.data().length);
            }
        }
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** Little-endian primitives on a stream, counting the bytes written. */
    private static final class Out {
        private final OutputStream os;
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(OutputStream os) {
            this.os = os;
        }

        void bytes(byte[] a) throws IOException {
            os.write(a);
            written += a.length;
        }

        void pad(long n) throws IOException {
            for (long i = 0; i < n; i++) {
                os.write(0);
            }
            written += n;
        }

        private void flush(int n) throws IOException {
            os.write(b.array(), 0, n);
            written += n;
            b.clear();
        }

        void u8(int v) throws IOException {
            b.put((byte) v);
            flush(1);
        }

        void u16(int v) throws IOException {
            b.putShort((short) v);
            flush(2);
        }

        void u32(long v) throws IOException {
            b.putInt((int) v);
            flush(4);
        }

        void u64(long v) throws IOException {
            b.putLong(v);
            flush(8);
        }

        void string(String s) throws IOException {
            byte[] a = s.getBytes(StandardCharsets.UTF_8);
            u64(a.length);
            bytes(a);
        }

        void value(GgufValueType t, Object v) throws IOException {
            switch (t) {
                case UINT8, INT8 -> u8(((Number) v).intValue());
                case UINT16, INT16 -> u16(((Number) v).intValue());
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    GgufArray a = (GgufArray) v;
                    u32(a.elementType().id());
                    int n = a.size();
                    u64(n);
                    for (int i = 0; i < n; i++) {
                        value(a.elementType(), java.lang.reflect.Array.get(a.values(), i));
                    }
                }
                default -> throw new IllegalStateException(t.name());
            }
        }
    }
}
