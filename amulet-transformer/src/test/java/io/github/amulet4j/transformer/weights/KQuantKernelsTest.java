package io.github.amulet4j.transformer.weights;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.gguf.GgmlBlocks;
import io.github.amulet4j.formats.gguf.GgmlType;
import org.junit.jupiter.api.Assumptions;
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
 * The K-quant kernels (Q4_K, Q5_K, Q6_K held in ggml's blocks) on random blocks (every bit pattern of quants, scales,
 * minimums and high bits): the Java kernel against a naive float64 product of the weights that amulet-formats'
 * {@link GgmlBlocks} (an independent decoder) dequantizes; every native variant this CPU has against the naive
 * product with the quantized activations (only float32 summation error allowed), against the Java kernel (bounded by
 * the activation quantization error) and against the scalar C variant. Shapes: one block, odd block counts, a
 * Qwen2.5-0.5B down projection's 19 blocks, a Llama-3.1-8B down projection's 56, rows of every count from 1, one to
 * five columns (every width of the native kernels' tiles of four, and a tile and one), row ranges, slabs.
 */
class KQuantKernelsTest {

    private static final WeightFormat[] K = {WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K};
    /** Rows x inputs. */
    private static final int[][] SHAPES = {{1, 256}, {3, 512}, {7, 768}, {17, 1280}, {33, 256}, {5, 4864}, {2, 2304}, {3, 14336}};

    /** {@code rows} rows of random blocks: random bytes, with block scales of random finite halves near 0.01. */
    static byte[] randomBlocks(WeightFormat f, int rows, int cols, Random random) {
        int blocks = rows * cols / WeightFormat.SUPER_BLOCK;
        byte[] raw = new byte[blocks * f.blockBytes()];
        random.nextBytes(raw);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < blocks; k++) {
            int at = k * f.blockBytes();
            if (f == WeightFormat.Q6_K) {
                b.putShort(at + 208, SafetensorsDtype.floatToHalf((float) (random.nextGaussian() * 0.001)));
            } else {
                b.putShort(at, SafetensorsDtype.floatToHalf((float) (0.002 + random.nextDouble() * 0.01)));
                b.putShort(at + 2, SafetensorsDtype.floatToHalf((float) (random.nextDouble() * 0.01)));
            }
        }
        return raw;
    }

    static WeightMatrix matrix(WeightFormat f, byte[] raw, int rows, int cols, int maxSlabBytes) {
        int rowBytes = (int) f.rowBytes(cols);
        return WeightMatrix.fromStoredBytes(f, rows, cols, (first, count, dst) -> dst.put(raw, first * rowBytes,
                count * rowBytes), maxSlabBytes);
    }

    /** The weights as amulet-formats decodes them (row-major float32). */
    static float[] dequantized(WeightFormat f, byte[] raw, int rows, int cols) {
        float[] w = new float[rows * cols];
        GgmlBlocks.decode(GgmlType.valueOf(f.name()), ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), 0, w, 0,
                w.length);
        return w;
    }

    @Test
    void heldAsTheFileHoldsThemAndDecodedAsGgmlDoes() {
        Random random = new Random(7);
        for (WeightFormat f : K) {
            int rows = 5;
            int cols = 768;
            byte[] raw = randomBlocks(f, rows, cols, random);
            WeightMatrix m = matrix(f, raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES);
            assertEquals(raw.length, m.byteSize(), f + " holds the file's bytes, no more");
            assertArrayEquals(dequantized(f, raw, rows, cols), m.toFloatArray(), f + " rows");
            ByteBuffer back = ByteBuffer.allocate(raw.length);
            for (int r = 0; r < rows; r++) {
                m.copyRow(r, back, r * m.rowBytes());
            }
            assertArrayEquals(raw, back.array(), f + " raw rows back");
            float[] block = new float[256];
            float[] want = dequantized(f, Arrays.copyOf(raw, f.blockBytes()), 1, 256);
            KQuantJava.decode(f, raw, 0, block, 0);
            assertArrayEquals(want, block, f + " Java kernel's block decode");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of(WeightFormat.Q4_K, new float[256], 1, 256));
        assertTrue(e.getMessage().contains("fromStoredBytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightFormat.Q6_K.rowBytes(896));
    }

    /** A JVM without the native library multiplies the K-quants with the Java kernel, to float32 summation error. */
    @Test
    void withoutTheLibraryTheJavaKernelMultipliesThem() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-D" + NativeKernels.DISABLE_PROPERTY + "=true", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                NoNativeKQuantMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("available=false\n"), out);
        for (WeightFormat f : K) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(f + " nativeProduct=false relativeError=(\\S+)")
                    .matcher(out);
            assertTrue(m.find(), out);
            assertTrue(Double.parseDouble(m.group(1)) < 1e-5, f + ": " + out);
        }
    }

    @Test
    void javaKernelMatchesTheNaiveProductForEveryColumnCount() {
        Random random = new Random(11);
        for (WeightFormat f : K) {
            for (int[] shape : SHAPES) {
                int rows = shape[0];
                int cols = shape[1];
                byte[] raw = randomBlocks(f, rows, cols, random);
                WeightMatrix m = matrix(f, raw, rows, cols, WeightMatrix.MAX_SLAB_BYTES);
                float[] w = dequantized(f, raw, rows, cols);
                for (int n : new int[] {1, 2, 3, 17}) {
                    float[] x = RandomValues.gaussian(random, n * cols);
                    float[] y = new float[n * rows];
                    int cut = rows / 2;
                    m.multiply(x, n, y, cut, rows);
                    m.multiply(x, n, y, 0, cut);
                    for (int c = 0; c < n; c++) {
                        for (int r = 0; r < rows; r++) {
                            double exact = 0;
                            double magnitude = 0;
                            for (int i = 0; i < cols; i++) {
                                exact += (double) w[r * cols + i] * x[c * cols + i];
                                magnitude += Math.abs((double) w[r * cols + i] * x[c * cols + i]);
                            }
                            assertEquals(exact, y[c * rows + r], 1e-5 * magnitude + 1e-6,
                                    f + " " + rows + "x" + cols + " n " + n + " row " + r + " column " + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void activationsAreQuantizedPer256WithSixteenQuantSums() {
        Assumptions.assumeTrue(KQuantKernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(3);
        int cols = 768;
        WeightMatrix m = matrix(WeightFormat.Q4_K, randomBlocks(WeightFormat.Q4_K, 2, cols, random), 2, cols,
                WeightMatrix.MAX_SLAB_BYTES);
        int initial = KQuantKernels.variant();
        try {
            for (int v = 0; v < NativeKernels.VARIANTS; v++) {
                if ((KQuantKernels.supportedVariants() & (1 << v)) == 0) {
                    continue;
                }
                KQuantKernels.selectVariant(v);
                float[] x = RandomValues.gaussian(random, 2 * cols);
                x[5] = 0;
                Arrays.fill(x, 256, 512, 0f); // an all-zero block
                QuantizedInput q = new QuantizedInput();
                m.quantize(x, 2, q);
                assertEquals(256, q.block());
                for (int c = 0; c < 2; c++) {
                    for (int k = 0; k < cols / 256; k++) {
                        float amax = 0;
                        for (int j = 0; j < 256; j++) {
                            amax = Math.max(amax, Math.abs(x[c * cols + k * 256 + j]));
                        }
                        float d = q.scale(c, k);
                        assertEquals(amax / 127f, d, 0f, "scale");
                        for (int j = 0; j < 256; j++) {
                            int i = k * 256 + j;
                            assertEquals(x[c * cols + i], q.quant(c, i) * d, d / 2 * 1.0001f + 1e-30f, "quant " + i);
                        }
                    }
                    for (int g = 0; g < cols / 16; g++) {
                        int sum = 0;
                        for (int j = 0; j < 16; j++) {
                            sum += q.quant(c, 16 * g + j);
                        }
                        assertEquals(sum, q.partSum(c, g), "variant " + v + " sum of quants " + g);
                    }
                }
            }
        } finally {
            KQuantKernels.selectVariant(initial);
        }
    }

    @Test
    void everyVariantMatchesTheNaiveProductTheJavaKernelAndScalar() {
        Assumptions.assumeTrue(KQuantKernels.available(), NativeKernels.unavailableReason());
        int initial = KQuantKernels.variant();
        try {
            for (WeightFormat f : K) {
                for (int[] shape : SHAPES) {
                    Random random = new Random(31L * shape[0] + shape[1] + f.ordinal());
                    byte[] raw = randomBlocks(f, shape[0], shape[1], random);
                    WeightMatrix m = matrix(f, raw, shape[0], shape[1], WeightMatrix.MAX_SLAB_BYTES);
                    float[] w = dequantized(f, raw, shape[0], shape[1]);
                    for (int n : new int[] {1, 2, 3, 4, 5}) {
                        float[] x = RandomValues.gaussian(random, n * shape[1]);
                        NativeVariants.agreeWithScalar(NativeVariants.K_QUANTS, n * shape[0], 2e-5, v -> true,
                                m + " n " + n, (variant, magnitude) -> check(m, w, x, n, variant, magnitude));
                    }
                }
            }
        } finally {
            KQuantKernels.selectVariant(initial);
        }
    }

    /** One native product in two row ranges, checked; returns it and each row's sum of term magnitudes. */
    private static float[] check(WeightMatrix m, float[] w, float[] x, int n, String variant, double[] magnitudes) {
        int rows = m.rows();
        int in = m.cols();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        float[] got = new float[n * rows];
        int cut = rows / 3;
        m.multiply(q, got, cut, rows);
        m.multiply(q, got, 0, cut);
        float[] javaY = new float[n * rows];
        m.multiply(x, n, javaY, 0, rows);
        String what = variant + " " + m + " n " + n;
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                double quantError = 0;
                for (int i = 0; i < in; i++) {
                    double wi = w[r * in + i];
                    double d = q.scale(c, i / 256);
                    double xq = q.quant(c, i) * d;
                    exact += wi * xq;
                    magnitude += Math.abs(wi * xq);
                    quantError += Math.abs(wi) * d / 2;
                }
                float y = got[c * rows + r];
                magnitudes[c * rows + r] = magnitude;
                assertEquals(exact, y, 1e-5 * magnitude + 1e-6, what + " row " + r + " vs naive (quantized x)");
                assertEquals(javaY[c * rows + r], y, quantError * 1.001 + 1e-5 * magnitude + 1e-6,
                        what + " row " + r + " vs Java kernel (float x)");
            }
        }
        return got;
    }

    @Test
    void rowsSpreadOverSeveralSlabsAndOutsideTheRangeLeftAlone() {
        Assumptions.assumeTrue(KQuantKernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(5);
        for (WeightFormat f : K) {
            int rows = 23;
            int in = 1280;
            byte[] raw = randomBlocks(f, rows, in, random);
            WeightMatrix small = matrix(f, raw, rows, in, (int) f.rowBytes(in) * 4);
            WeightMatrix whole = matrix(f, raw, rows, in, WeightMatrix.MAX_SLAB_BYTES);
            for (int n = 1; n <= 2; n++) {
                float[] x = RandomValues.gaussian(random, n * in);
                NativeVariants.slabsAgree(whole, small, x, n, f.toString());
                QuantizedInput q = new QuantizedInput();
                whole.quantize(x, n, q);
                float[] y = new float[n * rows];
                Arrays.fill(y, 42f);
                whole.multiply(q, y, 5, 11);
                for (int i = 0; i < y.length; i++) {
                    int r = i % rows;
                    assertEquals(r >= 5 && r < 11, y[i] != 42f, f + " index " + i);
                }
            }
            // input quantized for Q8_0 blocks is refused by a K-quant matrix, and the other way round
            WeightMatrix q8 = WeightMatrix.of(WeightFormat.Q8_0, RandomValues.gaussian(random, 2 * in), 2, in);
            QuantizedInput q = new QuantizedInput();
            q8.quantize(RandomValues.gaussian(random, in), 1, q);
            assertThrows(IllegalArgumentException.class, () -> whole.multiply(q, new float[rows], 0, rows));
            whole.quantize(RandomValues.gaussian(random, in), 1, q);
            assertThrows(IllegalArgumentException.class, () -> q8.multiply(q, new float[2], 0, 2));
        }
    }
}
