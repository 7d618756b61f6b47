package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Manual probe (not a test): times the two orientations of a decode-step linear layer for 1 and 2
 * rows on the Qwen2.5-0.5B matrix shapes. Run with
 * {@code java -cp <test classpath> io.github.amulet4j.djl.model.LinearLayoutProbe [float16]}.
 */
public final class LinearLayoutProbe {

    private LinearLayoutProbe() {
    }

    public static void main(String[] args) {
        DataType type = args.length > 0 && args[0].equals("float16") ? DataType.FLOAT16 : DataType.FLOAT32;
        int[][] shapes = {{1152, 896}, {896, 896}, {9728, 896}, {896, 4864}, {151936, 896}};
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (int[] s : shapes) {
                NDArray w = m.randomNormal(0, 0.02f, new Shape(s[0], s[1]), DataType.FLOAT32).toType(type, false);
                NDArray wt = w.transpose().duplicate();
                for (int rows = 1; rows <= 2; rows++) {
                    NDArray x = m.randomNormal(0, 1, new Shape(rows, s[1]), DataType.FLOAT32).toType(type, false);
                    double a = time(() -> w.matMul(x.transpose()).close());
                    double b = time(() -> x.matMul(w.transpose()).close());
                    double c = time(() -> x.matMul(wt).close());
                    // One row given as two equal columns (a [2, in] array): the two-column product path.
                    double d = time(() -> {
                        try (NDManager t = m.newSubManager()) {
                            NDArray x2 = x.concat(x, 0);
                            x2.attach(t);
                            NDArray y = w.matMul(x2.transpose());
                            y.get(new ai.djl.ndarray.index.NDIndex(":, 0")).reshape(1, s[0]).close();
                            y.close();
                        }
                    });
                    System.out.printf("%s [%d,%d] rows=%d  W@X^T %.3f ms   X@W^T(view) %.3f ms   X@Wt(contig) %.3f ms"
                            + "   W@[X,X]^T %.3f ms%n", type, s[0], s[1], rows, a, b, c, d);
                }
            }
        }
    }

    private static double time(Runnable r) {
        int reps = 0;
        for (int i = 0; i < 3; i++) {
            r.run();
        }
        long start = System.nanoTime();
        long budget = 400_000_000L;
        while (System.nanoTime() - start < budget || reps < 5) {
            r.run();
            reps++;
        }
        return (System.nanoTime() - start) / 1e6 / reps;
    }
}
