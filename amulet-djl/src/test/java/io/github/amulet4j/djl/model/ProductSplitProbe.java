package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.LinearWeight;
import io.github.amulet4j.transformer.RowSplitPool;
import io.github.amulet4j.transformer.VectorSupport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.amulet4j.transformer.weights.WeightFormat;
import io.github.amulet4j.transformer.weights.WeightMatrix;

import java.util.Arrays;
import java.util.Locale;

/**
 * Manual probe (not a test): the linear products of one Qwen2.5-0.5B-shaped decode step (24 layers of q/k/v,
 * o, gate/up and down, plus the 151,936-row head; weights far beyond the caches), timed with one or two columns,
 * each computed whole by PyTorch or split by row blocks over {@link RowSplitPool}. Variants alternate
 * within each round so they see the same machine state; prints the median and best of the rounds.
 *
 * <p>With {@code --add-modules jdk.incubator.vector} it also times the Java kernels (F32 {@link WeightMatrix}) over copies of the
 * same weights (the default CPU float32 path).
 *
 * <p>Run: {@code OMP_WAIT_POLICY=PASSIVE java --add-modules jdk.incubator.vector -cp <test classpath>
 * io.github.amulet4j.djl.model.ProductSplitProbe [rounds]}
 */
public final class ProductSplitProbe {

    private static final int[][] SHAPES = {{1152, 896}, {896, 896}, {9728, 896}, {896, 4864}};

    private ProductSplitProbe() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        String[] names = {"1 column, whole", "1 column, split", "2 columns, whole", "2 columns, split",
            "1 column, java", "2 columns, java"};
        boolean java = VectorSupport.available();
        double[][] ms = new double[names.length][rounds];
        try (NDManager m = NDManager.newBaseManager("PyTorch");
             RowSplitPool workers = new RowSplitPool(2, "probe")) {
            EngineLinear[][] w = new EngineLinear[24][SHAPES.length];
            WeightMatrix[][] heap = new WeightMatrix[24][SHAPES.length];
            double bytes = 0;
            for (int l = 0; l < 24; l++) {
                for (int i = 0; i < SHAPES.length; i++) {
                    NDArray a = m.randomNormal(0, 0.02f, new Shape(SHAPES[i][0], SHAPES[i][1]), DataType.FLOAT32);
                    w[l][i] = EngineLinear.of(a, null, 2);
                    heap[l][i] = java ? WeightMatrix.of(WeightFormat.F32, a.toFloatArray(), SHAPES[i][0], SHAPES[i][1])
                            : null;
                    bytes += 4.0 * SHAPES[i][0] * SHAPES[i][1];
                }
            }
            NDArray headArray = m.randomNormal(0, 0.02f, new Shape(151936, 896), DataType.FLOAT32);
            EngineLinear head = EngineLinear.of(headArray, null, 2);
            WeightMatrix heapHead = java ? WeightMatrix.of(WeightFormat.F32, headArray.toFloatArray(), 151936, 896)
                    : null;
            bytes += 4.0 * 151936 * 896;
            for (int round = -1; round < rounds; round++) {
                for (int v = 0; v < names.length; v++) {
                    if (v >= 4) {
                        if (java && round >= 0) {
                            ms[v][round] = javaStep(heap, heapHead, v - 3, workers);
                        }
                        continue;
                    }
                    int columns = v < 2 ? 1 : 2;
                    boolean split = v % 2 == 1;
                    try (NDManager step = m.newSubManager()) {
                        NDArray[] x = new NDArray[SHAPES.length];
                        for (int i = 0; i < SHAPES.length; i++) {
                            // the decode layout: activations row-major [columns, in], multiplied as W @ x^T
                            x[i] = step.randomNormal(new Shape(columns, SHAPES[i][1])).transpose();
                        }
                        NDArray hx = step.randomNormal(new Shape(columns, 896)).transpose();
                        long t0 = System.nanoTime();
                        for (int l = 0; l < 24; l++) {
                            for (int i = 0; i < SHAPES.length; i++) {
                                multiply(w[l][i], x[i], split, workers, step);
                            }
                        }
                        multiply(head, hx, split, workers, step);
                        if (round >= 0) {
                            ms[v][round] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                }
            }
            for (int v = 0; v < (java ? names.length : 4); v++) {
                double[] s = ms[v].clone();
                Arrays.sort(s);
                double median = s[s.length / 2];
                System.out.printf(Locale.ROOT, "%-18s median %6.1f ms (%4.1f GB/s), best %6.1f ms (%4.1f GB/s)%n", names[v],
                        median, bytes / median / 1e6, s[0], bytes / s[0] / 1e6);
            }
        }
    }

    /** The same products with the Java kernels over copies of the weights, rows split over the workers. */
    private static double javaStep(WeightMatrix[][] heap, WeightMatrix head, int columns, RowSplitPool workers) {
        float[] x = new float[columns * 4864];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        float[] y = new float[columns * 151936];
        long t0 = System.nanoTime();
        for (WeightMatrix[] layer : heap) {
            for (int i = 0; i < SHAPES.length; i++) {
                javaProduct(layer[i], SHAPES[i][0], SHAPES[i][1], x, columns, y, workers);
            }
        }
        javaProduct(head, 151936, 896, x, columns, y, workers);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void javaProduct(WeightMatrix w, int rows, int in, float[] x, int n, float[] y, RowSplitPool workers) {
        int half = rows / 2 / LinearWeight.ROW_ALIGN * LinearWeight.ROW_ALIGN;
        workers.run(new Runnable[] {
            () -> w.multiply(x, n, y, 0, half),
            () -> w.multiply(x, n, y, half, rows)});
    }

    private static void multiply(EngineLinear w, NDArray x, boolean split, RowSplitPool workers, NDManager step) {
        try (NDManager scope = step.newSubManager()) {
            if (split) {
                NDArray[] blocks = w.blocks();
                NDArray[] parts = new NDArray[blocks.length];
                Runnable[] tasks = new Runnable[blocks.length];
                for (int i = 0; i < blocks.length; i++) {
                    int k = i;
                    tasks[i] = () -> parts[k] = blocks[k].matMul(x);
                }
                workers.run(tasks);
                for (NDArray r : parts) {
                    r.attach(scope);
                }
            } else {
                w.weight().matMul(x).attach(scope);
            }
        }
    }
}
