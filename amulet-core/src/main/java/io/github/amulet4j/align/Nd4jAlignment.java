package io.github.amulet4j.align;

import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adapter for DL4J / SameDiff users: applies an {@link AlignmentStep} to {@code INDArray} logits of
 * shape {@code [B, V]} (or {@code [V]}). The arithmetic runs in the plain-Java step, which the step
 * benchmark (src-docs/benchmarks-step.md) measured faster than ND4J ops at these sizes; ND4J is only
 * the input/output format here. Needs ND4J on the class path (an optional dependency of amulet-core).
 */
public final class Nd4jAlignment {

    private final AlignmentStep step;

    public Nd4jAlignment(AlignmentStep step) {
        this.step = Objects.requireNonNull(step, "step");
    }

    public AlignmentStep step() {
        return step;
    }

    /**
     * Adjusted logits {@code [B, V]} (float) from the preference and base logits of {@code B} requests.
     * Pass {@code null} for a stream the step does not read.
     *
     * @throws IllegalArgumentException on a rank other than 1 or 2, or when the shapes of the two streams differ
     * @throws LogitsException          on NaN/+inf logits (the step names the stream)
     */
    public INDArray apply(INDArray preference, INDArray base) {
        long[] shape = shapeOf(step.readsPreference() ? preference : base,
                step.readsPreference() ? "preference" : "base");
        if (step.readsPreference() && step.readsBase()) {
            long[] other = shapeOf(base, "base");
            if (other[0] != shape[0] || other[1] != shape[1]) {
                throw new IllegalArgumentException("preference logits have shape [" + shape[0] + ", " + shape[1]
                        + "] but base logits have shape [" + other[0] + ", " + other[1] + "]");
            }
        }
        if (shape[0] * shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("logits too large: " + shape[0] + " x " + shape[1]);
        }
        int rows = (int) shape[0];
        int vocab = (int) shape[1];
        float[] p = step.readsPreference() ? toFloats(preference) : null;
        float[] b = step.readsBase() ? toFloats(base) : null;
        float[] out = new float[rows * vocab];
        for (int r = 0; r < rows; r++) {
            int off = r * vocab;
            step.apply(p, off, b, off, out, off, vocab);
        }
        return Nd4j.create(out, new long[] {rows, vocab}, DataType.FLOAT);
    }

    private static long[] shapeOf(INDArray a, String name) {
        if (a == null) {
            throw new IllegalArgumentException(name + " logits are required but null");
        }
        long[] s = a.shape();
        if (s.length == 1) {
            return new long[] {1, s[0]};
        }
        if (s.length != 2) {
            throw new IllegalArgumentException(name + " logits must have shape [batch, vocab] or [vocab], got rank "
                    + s.length);
        }
        if (s[1] == 0) {
            throw new IllegalArgumentException(name + " logits have an empty vocabulary dimension");
        }
        return s;
    }

    private static float[] toFloats(INDArray a) {
        INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        return f.dup('c').data().asFloat();
    }
}
