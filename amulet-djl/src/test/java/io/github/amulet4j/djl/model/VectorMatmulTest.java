package io.github.amulet4j.djl.model;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link VectorMatmul} against a naive double-precision loop (the surefire JVM has the Vector API). */
class VectorMatmulTest {

    @Test
    void everyShapeColumnCountAndRowRangeMatchesTheNaiveProduct() {
        assertTrue(VectorSupport.available(), "tests run with " + VectorSupport.JVM_OPTION);
        Random random = new Random(7);
        // in: below, at and above vector lengths, with tails; rows: odd and even, tiles cut in the middle
        int[][] shapes = {{1, 3}, {5, 8}, {17, 13}, {33, 64}, {40, 100}, {3, 257}};
        for (int[] shape : shapes) {
            int rows = shape[0];
            int in = shape[1];
            float[] w = randoms(random, rows * in);
            for (int n = 1; n <= 11; n++) {
                float[] x = randoms(random, n * in);
                float[] want = naive(w, rows, in, x, n);
                float[] got = new float[n * rows];
                int cut = rows / 3;
                VectorMatmul.multiply(w, rows, in, x, n, got, 0, cut);
                VectorMatmul.multiply(w, rows, in, x, n, got, cut, rows);
                for (int i = 0; i < want.length; i++) {
                    float tol = 1e-5f * (1 + Math.abs(want[i])) * (float) Math.sqrt(in);
                    assertEquals(want[i], got[i], tol, "rows " + rows + ", in " + in + ", n " + n + ", index " + i);
                }
            }
        }
    }

    @Test
    void rowsOutsideTheRangeAreLeftAlone() {
        float[] w = randoms(new Random(1), 20 * 9);
        float[] x = randoms(new Random(2), 2 * 9);
        float[] y = new float[2 * 20];
        java.util.Arrays.fill(y, 42f);
        VectorMatmul.multiply(w, 20, 9, x, 2, y, 5, 12);
        for (int c = 0; c < 2; c++) {
            for (int r = 0; r < 20; r++) {
                boolean inside = r >= 5 && r < 12;
                assertEquals(!inside, y[c * 20 + r] == 42f, "column " + c + ", row " + r);
            }
        }
    }

    private static float[] naive(float[] w, int rows, int in, float[] x, int n) {
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

    private static float[] randoms(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
