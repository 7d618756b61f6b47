package io.github.amulet4j.transformer.weights;

/**
 * Activations quantized for the native kernels as llama.cpp's Q8_0 does it, but with float32 scales: per block of 32
 * values, {@code d = max|x| / 127}, {@code q = round(x / d)} (to nearest, ties to even) and the block sum
 * {@code d * sum(q)} that the Q4_0 kernel subtracts 8 times. An element's error is at most {@code d / 2}
 * ({@code max|x| / 254} of its block). Filled by {@link WeightMatrix#quantize}; reusable (it grows as needed); not
 * thread-safe while being filled, read-only while the products run.
 */
public final class QuantizedInput {

    byte[] quants = new byte[0];
    float[] scales = new float[0];
    float[] sums = new float[0];
    int columns;
    int cols;

    /** Columns held by the last {@link WeightMatrix#quantize}. */
    public int columns() {
        return columns;
    }

    void ensure(int n, int cols) {
        int values = n * cols;
        if (quants.length < values) {
            quants = new byte[values];
            scales = new float[values / WeightFormat.BLOCK];
            sums = new float[values / WeightFormat.BLOCK];
        }
        this.columns = n;
        this.cols = cols;
    }

    /** Quant {@code i} of column {@code c} (tests). */
    byte quant(int c, int i) {
        return quants[c * cols + i];
    }

    /** Scale of block {@code k} of column {@code c} (tests). */
    float scale(int c, int k) {
        return scales[c * (cols / WeightFormat.BLOCK) + k];
    }
}
