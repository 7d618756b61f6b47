package io.github.amulet4j.transformer;

/**
 * The float64 reference of one attention head for the attention tests: softmax-weighted values computed naively,
 * independent of the kernels under test.
 */
final class AttentionReference {

    private AttentionReference() {
    }

    /**
     * The attention output of the query at {@code qkv[q .. q + headDim)} over key/value slots {@code [lo, query]}:
     * scores are dot products with {@code keys[s]}, softmax over them (max subtracted), then the weighted sum of
     * {@code values[s * headDim ..]}.
     */
    static double[] naive(float[][] keys, float[] values, float[] qkv, int q, int lo, int query, int headDim) {
        double[] scores = new double[query + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int s = lo; s <= query; s++) {
            double dot = 0;
            for (int d = 0; d < headDim; d++) {
                dot += (double) keys[s][d] * qkv[q + d];
            }
            scores[s] = dot;
            max = Math.max(max, dot);
        }
        double sum = 0;
        double[] out = new double[headDim];
        for (int s = lo; s <= query; s++) {
            double w = Math.exp(scores[s] - max);
            sum += w;
            for (int d = 0; d < headDim; d++) {
                out[d] += w * values[s * headDim + d];
            }
        }
        for (int d = 0; d < headDim; d++) {
            out[d] /= sum;
        }
        return out;
    }

    /** The mean of the first {@code total} value rows of {@code headDim} (the output when no slot is visible). */
    static double[] mean(float[] values, int total, int headDim) {
        double[] out = new double[headDim];
        for (int s = 0; s < total; s++) {
            for (int d = 0; d < headDim; d++) {
                out[d] += values[s * headDim + d];
            }
        }
        for (int d = 0; d < headDim; d++) {
            out[d] /= total;
        }
        return out;
    }
}
