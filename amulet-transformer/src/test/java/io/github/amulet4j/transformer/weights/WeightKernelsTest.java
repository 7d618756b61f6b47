package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every format's kernels against a naive double-precision loop over the dequantized weights. */
class WeightKernelsTest {

    /** The formats that can be converted to from float32 (every one but the K-quants and Q5_0, held only as read). */
    static WeightFormat[] convertible() {
        return java.util.Arrays.stream(WeightFormat.values()).filter(f -> !f.storedOnly()).toArray(WeightFormat[]::new);
    }

    @Test
    void everyFormatShapeColumnCountAndRowRangeMatchesTheNaiveProduct() {
        Random random = new Random(3);
        // 2080 and 4864 inputs: split into panels of 1024 columns (the last of 32 and 768)
        int[][] shapes = {{1, 32}, {5, 64}, {17, 96}, {33, 160}, {40, 896}, {3, 1024}, {5, 2080}, {7, 4864}};
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int[] shape : shapes) {
                check(f, shape[0], shape[1], random);
            }
            if (!f.quantized()) {
                check(f, 9, 13, random);   // float formats: rows that end in a tail shorter than a vector
                check(f, 6, 47, random);
                check(f, 4, 2085, random);  // a last panel of 37 inputs
            }
        }
    }

    private static void check(WeightFormat f, int rows, int in, Random random) {
        WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, rows * in), rows, in);
        float[] w = m.toFloatArray();
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 11, 17}) {
            float[] x = RandomValues.gaussian(random, n * in);
            float[] want = naive(w, rows, in, x, n);
            float[] got = new float[n * rows];
            int cut = rows / 3;
            m.multiply(x, n, got, 0, cut);
            m.multiply(x, n, got, cut, rows);
            for (int i = 0; i < want.length; i++) {
                float tol = 2e-6f * (1 + Math.abs(want[i])) * (float) Math.sqrt(in);
                assertEquals(want[i], got[i], tol, f + " rows " + rows + ", in " + in + ", n " + n + ", index " + i);
            }
        }
    }

    @Test
    void rowsOutsideTheRangeAreLeftAlone() {
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int n : new int[] {1, 2, 5}) {
                WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(new Random(1), 40 * 64), 40, 64);
                float[] y = new float[n * 40];
                Arrays.fill(y, 42f);
                m.multiply(RandomValues.gaussian(new Random(2), n * 64), n, y, 5, 23);
                for (int c = 0; c < n; c++) {
                    for (int r = 0; r < 40; r++) {
                        boolean inside = r >= 5 && r < 23;
                        assertEquals(!inside, y[c * 40 + r] == 42f, f + " column " + c + ", row " + r);
                    }
                }
            }
        }
    }

    @Test
    void wrappedBytesAtAnOddOffsetMultiplyLikeTheConvertedMatrix() {
        Random random = new Random(5);
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int in : new int[] {128, 2080}) {
                WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, 6 * in), 6, in);
                ByteBuffer raw = ByteBuffer.allocateDirect((int) m.byteSize() + 3).order(ByteOrder.BIG_ENDIAN);
                for (int r = 0; r < 6; r++) {
                    m.copyRow(r, raw, 3 + r * m.rowBytes());
                }
                // the rows in the GGUF layout, as the reference encoder writes them
                ByteBuffer ref = ByteBuffer.allocate(m.rowBytes()).order(ByteOrder.LITTLE_ENDIAN);
                float[] row = new float[in];
                m.row(4, row, 0);
                BlockQuantizer.encode(f, row, 0, in, ref, 0);
                for (int i = 0; i < m.rowBytes(); i++) {
                    assertEquals(ref.get(i), raw.get(3 + 4 * m.rowBytes() + i), f + " in " + in + " byte " + i);
                }
                raw.position(3);
                WeightMatrix wrapped = WeightMatrix.wrap(f, 6, in, raw);
                for (int n = 1; n <= 3; n++) {
                    float[] x = RandomValues.gaussian(random, n * in);
                    float[] a = new float[n * 6];
                    float[] b = new float[n * 6];
                    m.multiply(x, n, a, 0, 6);
                    wrapped.multiply(x, n, b, 0, 6);
                    assertTrue(Arrays.equals(a, b), f + " n " + n);
                }
                assertEquals(m.get(4, 77), wrapped.get(4, 77), 0);
                assertEquals(m.get(5, in - 1), wrapped.get(5, in - 1), 0);
            }
        }
    }

    @Test
    void matricesCutIntoSeveralSlabsEqualOneSlab() {
        Random random = new Random(9);
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            float[] v = RandomValues.gaussian(random, 300 * 64);
            WeightMatrix one = WeightMatrix.of(f, v, 300, 64);
            // slabs of 7 rows: 43 slabs, conversion chunks cut at slab ends
            WeightMatrix cut = WeightMatrix.of(f, v, 300, 64, (int) (7 * f.rowBytes(64)) + 1);
            assertTrue(Arrays.equals(one.toFloatArray(), cut.toFloatArray()), f.toString());
            // conversion chunks of 16,384 rows of 64 that cross slabs of 20,001 rows
            float[] big = RandomValues.gaussian(random, 45_000 * 64);
            assertTrue(Arrays.equals(WeightMatrix.of(f, big, 45_000, 64).toFloatArray(),
                    WeightMatrix.of(f, big, 45_000, 64, (int) (20_001 * f.rowBytes(64))).toFloatArray()), f + " big");
            for (int n : new int[] {1, 2, 5}) {
                float[] x = RandomValues.gaussian(random, n * 64);
                float[] a = new float[n * 300];
                float[] b = new float[n * 300];
                one.multiply(x, n, a, 0, 300);
                cut.multiply(x, n, b, 0, 300);
                assertTrue(Arrays.equals(a, b), f + " n " + n);
            }
        }
    }

    /**
     * The kernels with 8 float lanes (AVX2, as most laptops have) where this machine has 16: a child JVM with
     * {@code -XX:UseAVX=2} multiplies every format, column count and panel layout and compares with the naive
     * product. Runs on x86-64 CPUs with AVX-512 (elsewhere the build JVM's own width is what the other tests cover).
     */
    @Test
    void eightLaneVectorsMatchTheNaiveProduct() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() == 16
                        && System.getProperty("os.arch").matches("amd64|x86_64"), "needs an AVX-512 x86-64 CPU");
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-XX:UseAVX=2", "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), NarrowVectorsMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("lanes=8\n"), out);
        String worst = out.substring(out.indexOf("worstOverTolerance=") + "worstOverTolerance=".length()).strip();
        assertTrue(Double.parseDouble(worst) <= 1, out);
    }

    @Test
    void halfWidenedInRegistersEqualsTheExactConversion() {
        for (int h = 0; h < 0x10000; h++) {
            if ((h & 0x7C00) == 0x7C00) {
                continue;  // infinities and NaNs are refused on conversion
            }
            float want = io.github.amulet4j.formats.checkpoint.SafetensorsDtype.halfToFloat((short) h);
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(WeightKernels.half((short) h)),
                    "half " + Integer.toHexString(h));
        }
    }

    static float[] naive(float[] w, int rows, int in, float[] x, int n) {
        float[] y = new float[n * rows];
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += (double) w[r * in + i] * x[c * in + i];
                }
                y[c * rows + r] = (float) s;
            }
        }
        return y;
    }
}
