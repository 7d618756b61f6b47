package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Every native kernel (every variant this CPU has) gives each column of a many-column product bit for bit the result
 * that column gets alone, whatever the columns beside it (tiles of columns, column blocks, the columns
 * left over after the tiles) and whatever row ranges the product is cut into (tiles of rows, row blocks, rows left
 * over): a prompt's logits must not depend on how it is cut into chunks, on the prompt cache, or on batching.
 * (The Java kernels do not have this property: one or two columns, 3 to 15 and 16 or more run three kernels that sum
 * in different orders; their results agree to float32 rounding only.)
 */
class ColumnIndependenceTest {

    /** Rows x inputs: a single row, rows and inputs with tails after every tile and block, panels (2080, 4864). */
    private static final int[][] SHAPES = {{1, 256}, {5, 768}, {67, 256}, {130, 512}, {9, 2304}, {6, 4864}};
    /**
     * Column counts: below, at and above the tiles (3, 4 or 6 columns; 4 x 6 tiles of BF16 leave 1 to 5 columns), the
     * decode batches that Q8_0/Q4_0 multiply in pairs on AVX-512 VNNI and the first they tile (8, 15, 16), and the
     * column blocks (48 BF16 columns, 64 others).
     */
    private static final int[] COLUMNS = {3, 4, 5, 6, 7, 8, 15, 16, 17, 53, 70};

    @Test
    void nativeColumnsEqualEachColumnAloneInEveryFormatAndVariant() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        int q8q4 = NativeKernels.variant();
        int half = NativeFloat16Kernels.variant();
        int kq = KQuantKernels.variant();
        int f32 = NativeFloat32Kernels.variant();
        int q50 = Q50Kernels.variant();
        try {
            for (WeightFormat f : NativeVariants.formats()) {
                NativeVariants.Family family = f.superBlocks() ? NativeVariants.K_QUANTS
                        : f == WeightFormat.Q5_0 ? NativeVariants.Q5_0
                        : f == WeightFormat.F16 || f == WeightFormat.BF16 ? NativeVariants.FLOAT16
                        : f == WeightFormat.F32 ? NativeVariants.FLOAT32
                        : NativeVariants.Q8_Q4;
                int supported = family.supported().getAsInt();
                for (int v = 0; v < family.count(); v++) {
                    if ((supported & (1 << v)) == 0) {
                        continue;
                    }
                    family.select().applyAsInt(v);
                    String variant = family.name().apply(v);
                    Random random = new Random(7L * f.ordinal() + v);
                    for (int[] shape : SHAPES) {
                        WeightMatrix m = matrix(f, shape[0], shape[1], random);
                        for (int n : COLUMNS) {
                            float[] x = RandomValues.gaussian(random, n * shape[1]);
                            assertArrayEquals(NativeVariants.eachAlone(m, x, n), together(m, x, n),
                                    variant + " " + m + " n " + n + ": a column's result depends on the others");
                        }
                    }
                }
            }
        } finally {
            NativeKernels.selectVariant(q8q4);
            NativeFloat16Kernels.selectVariant(half);
            KQuantKernels.selectVariant(kq);
            NativeFloat32Kernels.selectVariant(f32);
            Q50Kernels.selectVariant(q50);
        }
    }

    private static WeightMatrix matrix(WeightFormat f, int rows, int cols, Random random) {
        if (f == WeightFormat.Q5_0) {
            return Q50KernelsTest.matrix(Q50KernelsTest.randomBlocks(rows, cols, random), rows, cols,
                    WeightMatrix.MAX_SLAB_BYTES, WeightMatrix.Storage.HEAP);
        }
        if (f.superBlocks()) {
            return KQuantKernelsTest.matrix(f, KQuantKernelsTest.randomBlocks(f, rows, cols, random), rows, cols,
                    WeightMatrix.MAX_SLAB_BYTES);
        }
        return WeightMatrix.of(f, RandomValues.gaussian(random, rows * cols), rows, cols);
    }

    /** All {@code n} columns in one product, cut into three row ranges at odd places. */
    private static float[] together(WeightMatrix m, float[] x, int n) {
        int rows = m.rows();
        float[] y = new float[n * rows];
        int a = Math.min(rows, 3);
        int b = Math.max(a, rows - rows / 3);
        QuantizedInput q = new QuantizedInput();
        m.quantize(x, n, q);
        m.multiply(q, y, b, rows);
        m.multiply(q, y, 0, a);
        m.multiply(q, y, a, b);
        return y;
    }
}
