package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Manual probe (not a test): one decode row through the linear layers of 24 Qwen2.5-0.5B-shaped layers
 * plus the head (weights far larger than the caches), alternating per step between the one-column product
 * {@code W @ x^T} and the two-column product {@code W @ [x, x]^T}, so that both see the same machine state.
 */
public final class StreamedLinearProbe {

    private StreamedLinearProbe() {
    }

    public static void main(String[] args) {
        int[][] shapes = {{1152, 896}, {896, 896}, {9728, 896}, {896, 4864}};
        NDIndex first = new NDIndex(":, 0");
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray[][] w = new NDArray[24][4];
            for (int l = 0; l < 24; l++) {
                for (int i = 0; i < 4; i++) {
                    w[l][i] = m.randomNormal(0, 0.02f, new Shape(shapes[i][0], shapes[i][1]), DataType.FLOAT32);
                }
            }
            NDArray head = m.randomNormal(0, 0.02f, new Shape(151936, 896), DataType.FLOAT32);
            double[] sum = new double[2];
            double[] headSum = new double[2];
            int steps = Integer.getInteger("probe.steps", 20);
            for (int step = 0; step < 2 * steps; step++) {
                int mode = step % 2;
                try (NDManager s = m.newSubManager()) {
                    long t0 = System.nanoTime();
                    for (int l = 0; l < 24; l++) {
                        for (int i = 0; i < 4; i++) {
                            NDArray x = s.randomNormal(new Shape(1, shapes[i][1]));
                            product(w[l][i], x, mode, first);
                        }
                    }
                    long t1 = System.nanoTime();
                    product(head, s.randomNormal(new Shape(1, 896)), mode, first);
                    long t2 = System.nanoTime();
                    if (step >= 2) {
                        sum[mode] += (t1 - t0) / 1e6;
                        headSum[mode] += (t2 - t1) / 1e6;
                    }
                }
            }
            int n = steps - 1;
            System.out.printf("layers: one column %.1f ms, two columns %.1f ms; head: one column %.1f ms, two columns %.1f ms%n",
                    sum[0] / n, sum[1] / n, headSum[0] / n, headSum[1] / n);
        }
    }

    private static NDArray product(NDArray w, NDArray x, int mode, NDIndex first) {
        if (mode == 0) {
            return w.matMul(x.transpose()).reshape(1, w.getShape().get(0));
        }
        return w.matMul(x.concat(x, 0).transpose()).get(first).reshape(1, w.getShape().get(0));
    }
}
