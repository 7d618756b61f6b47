package io.github.amulet4j.transformer.weights;

/**
 * Activations prepared for the native kernels. For Q8_0/Q4_0 weights, quantized as llama.cpp's Q8_0 does it, but with
 * float32 scales: per block of 32 values, {@code d = max|x| / 127}, {@code q = round(x / d)} (to nearest, ties to
 * even) and the block sum {@code d * sum(q)} that the Q4_0 kernel subtracts 8 times. An element's error is at most
 * {@code d / 2} ({@code max|x| / 254} of its block). For the K-quants ({@link KQuantKernels}) the blocks are of 256
 * values, as llama.cpp's Q8_K: the same rounding, and in place of the block sums the integer sums of every 16 quants.
 * For F16/BF16 weights, a float32 copy and, where BF16 products use {@code vdpbf16ps}, the values rounded to bfloat16
 * (to nearest, ties to even: an element's relative error is at most {@code 2^-9}). Filled by
 * {@link WeightMatrix#quantize}; reusable (it grows as needed); not thread-safe while being filled, read-only while
 * the products run.
 */
public final class QuantizedInput {

    byte[] quants = new byte[0];
    float[] scales = new float[0];
    float[] sums = new float[0];
    /** F16/BF16: the activations as given. */
    float[] floats = new float[0];
    /** BF16 with {@code vdpbf16ps}: the activations rounded to bfloat16; else unused. */
    short[] bf16 = new short[0];
    /** Whether {@link #bf16} holds this input. */
    boolean rounded;
    /** The K-quants' sums of every 16 quants. */
    short[] partSums = new short[0];
    /** Values a block: 32 (Q8_0/Q4_0), 256 (K-quants) or 1 (F16/BF16: {@link #floats}). */
    int block = WeightFormat.BLOCK;
    int columns;
    int cols;
    /** The inputs of a stacked matrix's other kinds of parts ({@link #slot}); grown as needed. */
    private QuantizedInput[] others = new QuantizedInput[0];

    /**
     * Input {@code s} of a {@link WeightMatrix#stacked} matrix whose parts read the activations in different forms:
     * this one for 0, one kept beside it for each other.
     */
    QuantizedInput slot(int s) {
        if (s == 0) {
            return this;
        }
        if (others.length < s) {
            others = java.util.Arrays.copyOf(others, s);
        }
        if (others[s - 1] == null) {
            others[s - 1] = new QuantizedInput();
        }
        return others[s - 1];
    }

    /** Columns held by the last {@link WeightMatrix#quantize}. */
    public int columns() {
        return columns;
    }

    void ensure(int n, int cols) {
        int values = n * cols;
        if (quants.length < values) {
            quants = new byte[values];
        }
        if (scales.length < values / WeightFormat.BLOCK) {
            scales = new float[values / WeightFormat.BLOCK];
            sums = new float[values / WeightFormat.BLOCK];
        }
        this.block = WeightFormat.BLOCK;
        this.columns = n;
        this.cols = cols;
    }

    /** Sizes the float32 (and, for {@code round}, bfloat16) copies for {@code n} columns of {@code cols}. */
    void ensureFloats(int n, int cols, boolean round) {
        int values = n * cols;
        if (floats.length < values) {
            floats = new float[values];
        }
        if (round && bf16.length < values) {
            bf16 = new short[values];
        }
        this.rounded = round;
        this.block = 1;
        this.columns = n;
        this.cols = cols;
    }

    /** As {@link #ensure} for blocks of {@value WeightFormat#SUPER_BLOCK} values with sums of every 16 quants. */
    void ensureSuperBlocks(int n, int cols) {
        int values = n * cols;
        if (quants.length < values) {
            quants = new byte[values];
        }
        if (scales.length < values / WeightFormat.SUPER_BLOCK) {
            scales = new float[values / WeightFormat.SUPER_BLOCK];
        }
        if (partSums.length < values / 16) {
            partSums = new short[values / 16];
        }
        this.block = WeightFormat.SUPER_BLOCK;
        this.columns = n;
        this.cols = cols;
    }

    /** Quant {@code i} of column {@code c} (tests). */
    byte quant(int c, int i) {
        return quants[c * cols + i];
    }

    /** Scale of block {@code k} of column {@code c} (tests). */
    float scale(int c, int k) {
        return scales[c * (cols / block) + k];
    }

    /** The sum of quants {@code [16 g, 16 g + 16)} of column {@code c} (K-quant input; tests). */
    int partSum(int c, int g) {
        return partSums[c * (cols / 16) + g];
    }

    /** Values a block: 32, or 256 for K-quant input. */
    int block() {
        return block;
    }
}
