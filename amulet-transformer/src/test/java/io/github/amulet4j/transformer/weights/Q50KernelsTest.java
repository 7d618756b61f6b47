package io.github.amulet4j.transformer.weights;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Q5_0 kernels ({@link Q50Kernels}: ggml's block_q5_0 held as stored) on random blocks (every bit pattern of
 * nibbles and high bits): rows decode as amulet-formats' {@link GgmlBlocks} (an independent decoder) decodes them; the
 * native product equals a naive float64 product of those weights with the quantized activations to float32 summation
 * error; every variant this CPU has gives the scalar C variant's bits, for every column count, each column the bits
 * it gets alone, on the heap and off it, in any row ranges and slabs. Shapes: fewer blocks than the kernels' group of
 * 8, 9 blocks, the Qwen2.5-0.5B shape's 28 (896) and 152 (4864), 131 (pieces of 64 pairs of blocks and a last odd
 * block in the AVX-512 kernel), rows of every count from 1.
 */
class Q50KernelsTest {

    /** Rows x inputs. */
    private static final int[][] SHAPES = {{1, 32}, {3, 160}, {7, 288}, {17, 896}, {33, 96}, {5, 4864}, {35, 4192}};

    @BeforeEach
    void needsLibrary() {
        Assumptions.assumeTrue(Q50Kernels.available(), NativeKernels.unavailableReason());
    }

    /** {@code rows} rows of random blocks: random bytes, with block scales of random finite halves near 0.01. */
    static byte[] randomBlocks(int rows, int cols, Random random) {
        int blocks = rows * cols / WeightFormat.BLOCK;
        byte[] raw = new byte[blocks * WeightFormat.Q5_0.blockBytes()];
        random.nextBytes(raw);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < blocks; k++) {
            b.putShort(k * WeightFormat.Q5_0.blockBytes(),
                    SafetensorsDtype.floatToHalf((float) (random.nextGaussian() * 0.01)));
        }
        return raw;
    }

    static WeightMatrix matrix(byte[] raw, int rows, int cols, int maxSlabBytes, WeightMatrix.Storage storage) {
        int rowBytes = (int) WeightFormat.Q5_0.rowBytes(cols);
        return WeightMatrix.fromStoredBytes(WeightFormat.Q5_0, rows, cols, (first, count, dst) -> dst.put(raw,
                first * rowBytes, count * rowBytes), maxSlabBytes, storage);
    }

    private static float[] dequantized(byte[] raw, int rows, int cols) {
        float[] w = new float[rows * cols];
        GgmlBlocks.decode(GgmlType.Q5_0, ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), 0, w, 0, w.length);
        return w;
    }

    @Test
    void heldAsTheFileHoldsThemAndDecodedAsGgmlDoes() {
        Random random = new Random(1);
        int rows = 5;
        int cols = 4864;
        byte[] raw = randomBlocks(rows, cols, random);
        for (WeightMatrix.Storage s : new WeightMatrix.Storage[] {WeightMatrix.Storage.HEAP,
                WeightMatrix.Storage.NATIVE}) {
            WeightMatrix m = matrix(raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES, s);
            assertEquals(raw.length, m.byteSize(), "the file's bytes, no more");
            assertEquals(1, m.panels().length, "a Q5_0 row is never split into panels");
            assertArrayEquals(dequantized(raw, rows, cols), m.toFloatArray(), s + " rows");
            ByteBuffer back = ByteBuffer.allocate(raw.length);
            for (int r = 0; r < rows; r++) {
                m.copyRow(r, back, r * m.rowBytes());
            }
            assertArrayEquals(raw, back.array(), s + " raw rows back");
        }
        // no quantizer, and the Java kernels do not take it
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of(WeightFormat.Q5_0, new float[32], 1, 32));
        assertTrue(e.getMessage().contains("fromStoredBytes"), e.getMessage());
        WeightMatrix m = matrix(raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES, WeightMatrix.Storage.HEAP);
        IllegalStateException j = assertThrows(IllegalStateException.class,
                () -> m.multiply(new float[cols], 1, new float[rows], 0, rows));
        assertTrue(j.getMessage().contains("native kernels"), j.getMessage());
        // a scale that is not finite is refused, naming the row
        byte[] bad = raw.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putShort(3 * (int) WeightFormat.Q5_0.rowBytes(cols)
                + 22 * 4, (short) 0x7C00);
        for (WeightMatrix.Storage s : new WeightMatrix.Storage[] {WeightMatrix.Storage.HEAP,
                WeightMatrix.Storage.NATIVE}) {
            IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                    () -> matrix(bad, rows, cols, WeightMatrix.MAX_SLAB_BYTES, s));
            assertTrue(b.getMessage().contains("row 3"), b.getMessage());
        }
    }

    @Test
    void everyVariantGivesTheScalarBitsAndTheNaiveProduct() {
        int initial = Q50Kernels.variant();
        try {
            Random random = new Random(2);
            for (int[] shape : SHAPES) {
                int rows = shape[0];
                int cols = shape[1];
                byte[] raw = randomBlocks(rows, cols, random);
                float[] w = dequantized(raw, rows, cols);
                WeightMatrix heap = matrix(raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES, WeightMatrix.Storage.HEAP);
                WeightMatrix off = matrix(raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES, WeightMatrix.Storage.NATIVE);
                for (int n : new int[] {1, 2, 3, 5, 16}) {
                    float[] x = randoms(random, n * cols);
                    float[] scalar = null;
                    int supported = Q50Kernels.supportedVariants();
                    assertEquals(1, supported & 1, "the scalar variant is always there");
                    for (int v = 0; v < NativeKernels.VARIANTS; v++) {
                        if ((supported & (1 << v)) == 0) {
                            continue;
                        }
                        assertEquals(v, Q50Kernels.selectVariant(v));
                        String what = Q50Kernels.variantName(v) + " " + rows + "x" + cols + " n " + n;
                        float[] got = checked(heap, w, x, n, what);
                        assertArrayEquals(got, checked(off, w, x, n, what + " off the heap"), what + " heap/off");
                        assertArrayEquals(got, NativeVariants.eachAlone(heap, x, n), what + ": columns alone");
                        if (scalar == null) {
                            scalar = got;
                        } else {
                            assertArrayEquals(scalar, got, what + ": the scalar variant's bits");
                        }
                    }
                }
            }
        } finally {
            Q50Kernels.selectVariant(initial);
        }
    }

    /** The native product in two row ranges, checked against the naive one on the quantized activations. */
    private static float[] checked(WeightMatrix m, float[] w, float[] x, int n, String what) {
        int rows = m.rows();
        int in = m.cols();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        float[] y = new float[n * rows];
        int cut = rows / 3;
        m.multiply(q, y, cut, rows);
        m.multiply(q, y, 0, cut);
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                for (int i = 0; i < in; i++) {
                    double xq = q.quant(c, i) * (double) q.scale(c, i / WeightFormat.BLOCK);
                    exact += w[r * in + i] * xq;
                    magnitude += Math.abs(w[r * in + i] * xq);
                }
                assertEquals(exact, y[c * rows + r], 1e-5 * magnitude + 1e-6, what + " row " + r + " column " + c);
            }
        }
        return y;
    }

    @Test
    void rowsSpreadOverSeveralSlabsAndOutsideTheRangeLeftAlone() {
        Random random = new Random(4);
        int rows = 23;
        int in = 896;
        byte[] raw = randomBlocks(rows, in, random);
        for (WeightMatrix.Storage s : new WeightMatrix.Storage[] {WeightMatrix.Storage.HEAP,
                WeightMatrix.Storage.NATIVE}) {
            WeightMatrix small = matrix(raw, rows, in, (int) WeightFormat.Q5_0.rowBytes(in) * 4, s);
            WeightMatrix whole = matrix(raw, rows, in, WeightMatrix.MAX_SLAB_BYTES, s);
            for (int n = 1; n <= 3; n++) {
                float[] x = randoms(random, n * in);
                NativeVariants.slabsAgree(whole, small, x, n, "Q5_0 " + s);
                QuantizedInput q = new QuantizedInput();
                whole.quantize(x, n, q);
                float[] y = new float[n * rows];
                Arrays.fill(y, 42f);
                whole.multiply(q, y, 5, 11);
                for (int i = 0; i < y.length; i++) {
                    int r = i % rows;
                    assertEquals(r >= 5 && r < 11, y[i] != 42f, s + " index " + i);
                }
            }
        }
    }

    private static float[] randoms(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
