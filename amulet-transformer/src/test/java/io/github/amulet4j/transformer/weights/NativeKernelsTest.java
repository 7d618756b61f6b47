package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native Q8_0/Q4_0 kernels, every variant this CPU has, against (a) a naive float64 product of the dequantized
 * weights with the quantized activations: the same numbers, so only float32 summation error is allowed; (b) the
 * Java kernel, which keeps the activations float32: the difference is bounded by the activation quantization error,
 * {@code sum_i |w_i| * d_k / 2} over the row ({@code d_k = max|x| / 127} of the input's block), plus float32 slack;
 * (c) the scalar C variant.
 */
class NativeKernelsTest {

    /** Rows x inputs: one block, odd block counts, rows not a multiple of any tile or row block (130), panels. */
    private static final int[][] SHAPES = {{1, 32}, {3, 64}, {7, 96}, {17, 160}, {33, 896}, {5, 1024}, {6, 2080},
            {130, 64}, {9, 4864}};

    @Test
    void theLibraryIsBuiltWhereACompilerIs() {
        boolean compiler = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String cc : new String[] {"gcc", "clang", "cc"}) {
                compiler |= new File(dir, cc).canExecute();
            }
        }
        Assumptions.assumeTrue(compiler && NativeKernels.platform() != null
                && !Boolean.getBoolean("amulet.native.skip") && !Boolean.getBoolean(NativeKernels.DISABLE_PROPERTY),
                "no C compiler on the PATH or not linux-x86_64/aarch64: the library is not expected");
        assertTrue(NativeKernels.available(), "a C compiler is on the PATH but the native kernels did not load: "
                + NativeKernels.unavailableReason());
    }

    /** A JVM that must not load the library: the Java kernels, one line that says why, NATIVE refused by name. */
    @Test
    void withoutTheLibraryAutoIsJavaAndNativeIsRefused() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-D" + NativeKernels.DISABLE_PROPERTY + "=true", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                NoNativeLibraryMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("available=false\n"), out);
        assertTrue(out.contains("auto=JAVA\n"), out);
        assertTrue(out.contains("describe=Java kernels (auto: disabled by -D" + NativeKernels.DISABLE_PROPERTY), out);
        assertTrue(out.contains("native=refused: kernels NATIVE: disabled by"), out);
        assertTrue(out.contains("nativeProduct=false\n"), out);
    }

    @Test
    void everyVariantMatchesTheNaiveProductAndTheJavaKernel() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        int initial = NativeKernels.variant();
        try {
            for (WeightFormat f : new WeightFormat[] {WeightFormat.Q8_0, WeightFormat.Q4_0}) {
                for (int[] shape : SHAPES) {
                    Random random = new Random(31L * shape[0] + shape[1] + f.ordinal());
                    WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, shape[0] * shape[1]), shape[0],
                            shape[1]);
                    // decode (one, two columns) and prefill (odd and even counts: tiles, pairs over row blocks, columns left over)
                    for (int n : new int[] {1, 2, 3, 6, 9, 18}) {
                        float[] x = RandomValues.gaussian(random, n * shape[1]);
                        // relative to the sum of the terms' magnitudes (Q4_0's block sums cancel most of the nibbles'
                        // offset)
                        NativeVariants.agreeWithScalar(NativeVariants.Q8_Q4, n * shape[0], 2e-5, v -> true,
                                m + " n " + n, (variant, magnitude) -> check(m, x, n, variant, magnitude));
                    }
                }
            }
        } finally {
            NativeKernels.selectVariant(initial);
        }
    }

    /** One product through the native kernels, in two row ranges, checked; returns it (and each term magnitude sum). */
    private static float[] check(WeightMatrix m, float[] x, int n, String variant, double[] magnitudes) {
        int rows = m.rows();
        int in = m.cols();
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        float[] got = new float[n * rows];
        int cut = rows / 3;
        m.multiply(q, got, 0, cut);
        m.multiply(q, got, cut, rows);
        float[] javaY = new float[n * rows];
        m.multiply(x, n, javaY, 0, rows);
        float[] w = m.toFloatArray();
        String what = variant + " " + m + " n " + n;
        for (int c = 0; c < n; c++) {
            for (int k = 0; k < in / WeightFormat.BLOCK; k++) {
                float d = q.scale(c, k);
                for (int j = 0; j < WeightFormat.BLOCK; j++) {
                    int i = k * WeightFormat.BLOCK + j;
                    assertEquals(x[c * in + i], q.quant(c, i) * d, d / 2 * 1.0001f + 1e-30f, what + " quantized x");
                }
            }
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double magnitude = 0;
                double quantError = 0;
                for (int i = 0; i < in; i++) {
                    double wi = w[r * in + i];
                    double xq = q.quant(c, i) * (double) q.scale(c, i / WeightFormat.BLOCK);
                    exact += wi * xq;
                    magnitude += Math.abs(wi * xq);
                    quantError += Math.abs(wi) * q.scale(c, i / WeightFormat.BLOCK) / 2;
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
    void rowsSpreadOverSeveralSlabs() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        Random random = new Random(5);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.Q8_0, WeightFormat.Q4_0}) {
            int rows = 23;
            int in = 4864;
            float[] values = RandomValues.gaussian(random, rows * in);
            WeightMatrix small = WeightMatrix.of(f, values, rows, in, (int) f.rowBytes(in) * 4);
            WeightMatrix whole = WeightMatrix.of(f, values, rows, in);
            for (int n = 1; n <= 2; n++) {
                float[] x = RandomValues.gaussian(random, n * in);
                NativeVariants.slabsAgree(whole, small, x, n, f.toString());
            }
        }
    }

    @Test
    void rowsOutsideTheRangeAreLeftAloneAndMisuseIsRefused() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        WeightMatrix m = WeightMatrix.of(WeightFormat.Q8_0, RandomValues.gaussian(new Random(1), 40 * 64), 40, 64);
        QuantizedInput q = new QuantizedInput();
        m.quantize(RandomValues.gaussian(new Random(2), 2 * 64), 2, q);
        float[] y = new float[80];
        Arrays.fill(y, 42f);
        m.multiply(q, y, 5, 23);
        for (int i = 0; i < 80; i++) {
            int r = i % 40;
            assertEquals(r >= 5 && r < 23, y[i] != 42f, "index " + i);
        }
        WeightMatrix other = WeightMatrix.of(WeightFormat.Q8_0, RandomValues.gaussian(new Random(3), 4 * 96), 4, 96);
        assertThrows(IllegalArgumentException.class, () -> other.multiply(q, new float[8], 0, 4));
        assertThrows(IllegalArgumentException.class, () -> m.multiply(q, new float[40], 0, 40));
        assertThrows(IllegalStateException.class, () -> m.quantize(new float[64], 0, new QuantizedInput()));
        assertThrows(IllegalArgumentException.class, () -> m.quantize(new float[64 * 64], 65, new QuantizedInput()));
    }

    @Test
    void kernelsResolve() {
        assertEquals(Kernels.JAVA, Kernels.JAVA.resolve());
        assertEquals(Kernels.NATIVE, Kernels.parse(" Native "));
        assertThrows(IllegalArgumentException.class, () -> Kernels.parse("gpu"));
        assertEquals(NativeKernels.accelerated() ? Kernels.NATIVE : Kernels.JAVA, Kernels.AUTO.resolve());
        if (!NativeKernels.available()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, Kernels.NATIVE::resolve);
            assertTrue(e.getMessage().contains(NativeKernels.unavailableReason()), e.getMessage());
        }
        assertTrue(Kernels.AUTO.describe(WeightFormat.Q8_0).contains("kernels"));
    }
}
