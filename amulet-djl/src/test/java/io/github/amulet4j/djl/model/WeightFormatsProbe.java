package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.RowSplitPool;

import io.github.amulet4j.transformer.weights.WeightFormat;
import io.github.amulet4j.transformer.weights.WeightMatrix;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Manual probe (not a test): the linear products of one Qwen2.5-0.5B-shaped decode step (24 layers of q/k/v, o,
 * gate/up and down plus the 151,936-row head) in one {@link WeightFormat}, with one and two columns, split over
 * product workers as the model does; and a 64-column (prefill) product over a quarter of the layers. Prints median
 * ms, GB/s and GFLOP/s (wall time: run it alone).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp <test classpath>
 * io.github.amulet4j.djl.model.WeightFormatsProbe FORMAT [rounds] [threads]}
 */
public final class WeightFormatsProbe {

    private static final int[][] SHAPES = {{1152, 896}, {896, 896}, {9728, 896}, {896, 4864}};

    private WeightFormatsProbe() {
    }

    public static void main(String[] args) {
        WeightFormat f = WeightFormat.parse(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Random random = new Random(1);
        WeightMatrix[][] w = new WeightMatrix[25][SHAPES.length];

        double bytes = 0;
        for (int l = 0; l < 25; l++) {
            for (int i = 0; i < (l == 24 ? 1 : SHAPES.length); i++) {
                int rows = l == 24 ? 151936 : SHAPES[i][0];
                int in = l == 24 ? 896 : SHAPES[i][1];
                float[] v = new float[rows * in];
                for (int k = 0; k < v.length; k++) {
                    v[k] = (float) (random.nextGaussian() * 0.02);
                }
                w[l][i] = WeightMatrix.of(f, v, rows, in);
                bytes += w[l][i].byteSize();
            }
        }
        try (RowSplitPool workers = new RowSplitPool(threads, "probe")) {
            String[] names = {"1 col", "2 col", "64 col (6 layers)"};
            double[][] ms = new double[names.length][rounds];
            for (int round = -2; round < rounds; round++) {
                for (int v = 0; v < names.length; v++) {
                    int n = v % 3 == 0 ? 1 : v % 3 == 1 ? 2 : 64;
                    long t0 = System.nanoTime();
                    for (int l = 0; l < 25; l++) {
                        if (n == 64 && l % 4 != 0) {
                            continue;
                        }
                        for (int i = 0; i < (l == 24 ? 1 : SHAPES.length); i++) {
                            if (n == 64 && l == 24) {
                                continue;
                            }
                            WeightMatrix m = w[l][i];
                            float[] x = new float[n * m.cols()];
                            Arrays.fill(x, 0.5f);
                            float[] y = new float[n * m.rows()];
                            run(workers, m, x, n, y);
                        }
                    }
                    if (round >= 0) {
                        ms[v][round] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            System.out.printf(Locale.ROOT, "%s: %.3f GB of weights, %d thread(s)%n", f, bytes / 1e9, threads);
            for (int v = 0; v < names.length; v++) {
                Arrays.sort(ms[v]);
                double med = ms[v][rounds / 2];
                String extra = v % 3 == 2 ? String.format(Locale.ROOT, "%.1f GFLOP/s",
                        2.0 * 64 * 6 * 896.0 * (1152 + 896 + 9728 + 4864) / (med / 1e3) / 1e9)
                        : String.format(Locale.ROOT, "%.1f GB/s", bytes / (med / 1e3) / 1e9);
                System.out.printf(Locale.ROOT, "  %-28s median %8.2f ms  best %8.2f ms  %s%n", names[v], med, ms[v][0],
                        extra);
            }
        }
    }

    private static void run(RowSplitPool workers, WeightMatrix m, float[] x, int n, float[] y) {
        int rows = m.rows();
        int parts = Math.max(1, Math.min(workers.threads(), rows / 16));
        Runnable[] tasks = new Runnable[parts];
        int start = 0;
        for (int i = 0; i < parts; i++) {
            int end = i == parts - 1 ? rows : (int) ((long) rows * (i + 1) / parts) / 16 * 16;
            int from = start;
            int to = Math.max(from, end);
            tasks[i] = () -> m.multiply(x, n, y, from, to);
            start = to;
        }
        workers.run(tasks);
    }
}
