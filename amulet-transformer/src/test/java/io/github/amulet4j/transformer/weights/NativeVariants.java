package io.github.amulet4j.transformer.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;
import java.util.function.IntSupplier;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs one product on every SIMD variant of a native kernel family that this CPU has and compares each variant's
 * result with the scalar one's (tests of {@link NativeKernels}, {@link NativeFloat16Kernels}, {@link KQuantKernels}).
 */
final class NativeVariants {

    /** A kernel family's variant switches. */
    record Family(int count, IntSupplier supported, IntUnaryOperator select, IntFunction<String> name) {
    }

    static final Family Q8_Q4 = new Family(NativeKernels.VARIANTS, NativeKernels::supportedVariants,
            NativeKernels::selectVariant, NativeKernels::variantName);
    static final Family FLOAT16 = new Family(NativeFloat16Kernels.VARIANTS, NativeFloat16Kernels::supportedVariants,
            NativeFloat16Kernels::selectVariant, NativeFloat16Kernels::variantName);
    static final Family FLOAT32 = new Family(NativeFloat32Kernels.VARIANTS, NativeFloat32Kernels::supportedVariants,
            NativeFloat32Kernels::selectVariant, NativeFloat32Kernels::variantName);
    static final Family K_QUANTS = new Family(NativeKernels.VARIANTS, KQuantKernels::supportedVariants,
            KQuantKernels::selectVariant, KQuantKernels::variantName);
    static final Family Q5_0 = new Family(NativeKernels.VARIANTS, Q50Kernels::supportedVariants,
            Q50Kernels::selectVariant, Q50Kernels::variantName);

    /** The product on the selected variant (by name), which fills each output's sum of term magnitudes. */
    @FunctionalInterface
    interface Product {
        float[] run(String variant, double[] magnitudes);
    }

    private NativeVariants() {
    }

    /** The formats the native kernels take here. */
    static List<WeightFormat> formats() {
        List<WeightFormat> all = new ArrayList<>();
        for (WeightFormat f : WeightFormat.values()) {
            if (NativeKernels.supports(f)) {
                all.add(f);
            }
        }
        return all;
    }

    /**
     * {@code product} ({@code outputs} values) on every variant of {@code family} this CPU has, the scalar one first;
     * every other one for which {@code compared} holds agrees with it within {@code relative} of each output's
     * magnitude (float32 sums in another order).
     */
    static void agreeWithScalar(Family family, int outputs, double relative, IntPredicate compared, String what,
                                Product product) {
        int supported = family.supported().getAsInt();
        assertEquals(1, supported & 1, "the scalar variant is always there");
        double[] magnitudes = new double[outputs];
        float[] scalar = null;
        for (int v = 0; v < family.count(); v++) {
            if ((supported & (1 << v)) == 0) {
                continue;
            }
            assertEquals(v, family.select().applyAsInt(v));
            String name = family.name().apply(v);
            float[] got = product.run(name, magnitudes);
            if (scalar == null) {
                scalar = got;
            } else if (compared.test(v)) {
                for (int i = 0; i < got.length; i++) {
                    assertEquals(scalar[i], got[i], relative * magnitudes[i] + 1e-6,
                            "variant " + name + " vs scalar, " + what);
                }
            }
        }
    }

    /**
     * The native product of {@code x} ({@code n} columns) by {@code whole} (one slab) and by {@code small}, the same
     * matrix in slabs of a few rows, in three row ranges {@code [2, 19)}, {@code [0, 2)}, {@code [19, rows)}: the
     * same bits.
     */
    static void slabsAgree(WeightMatrix whole, WeightMatrix small, float[] x, int n, String what) {
        int rows = whole.rows();
        QuantizedInput q = new QuantizedInput();
        whole.quantize(x, n, q);
        float[] a = new float[n * rows];
        float[] b = new float[n * rows];
        whole.multiply(q, a, 0, rows);
        small.multiply(q, b, 2, 19);
        small.multiply(q, b, 0, 2);
        small.multiply(q, b, 19, rows);
        assertArrayEquals(a, b, what + " n " + n + ": slabs of a few rows give other results");
    }

    /** Each of the {@code n} columns of {@code x} multiplied on its own, over all rows at once (native kernels). */
    static float[] eachAlone(WeightMatrix m, float[] x, int n) {
        int rows = m.rows();
        int cols = m.cols();
        float[] y = new float[n * rows];
        float[] one = new float[rows];
        QuantizedInput q = new QuantizedInput();
        for (int c = 0; c < n; c++) {
            m.quantize(java.util.Arrays.copyOfRange(x, c * cols, (c + 1) * cols), 1, q);
            m.multiply(q, one, 0, rows);
            System.arraycopy(one, 0, y, c * rows, rows);
        }
        return y;
    }
}
