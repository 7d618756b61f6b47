package io.github.amulet4j.transformer.weights;

import java.util.Locale;

/**
 * How the values of a weight matrix are stored, with llama.cpp's (ggml's) byte layouts so that a GGUF file's
 * tensors can be used where they lie. Every format is little-endian and row-major; a row of a block format is a
 * whole number of blocks of {@value #BLOCK} weights.
 *
 * <ul>
 *   <li>{@link #F32}: 4 bytes a weight.</li>
 *   <li>{@link #BF16}: 2 bytes, the upper half of a float32.</li>
 *   <li>{@link #F16}: 2 bytes, IEEE 754 half precision.</li>
 *   <li>{@link #Q8_0}: blocks of 34 bytes, ggml's {@code block_q8_0}: the scale {@code d} as an IEEE half,
 *       then 32 signed bytes {@code q}; weight {@code j} is {@code d * q[j]}.</li>
 *   <li>{@link #Q4_0}: blocks of 18 bytes, ggml's {@code block_q4_0}: the scale {@code d} as an IEEE half, then
 *       16 bytes whose low nibbles are weights 0..15 and high nibbles weights 16..31; weight {@code j} is
 *       {@code d * (nibble - 8)}.</li>
 * </ul>
 *
 * <p>Quantization ({@link BlockQuantizer}) follows ggml's reference rounding; its error bounds are documented there.
 */
public enum WeightFormat {
    /** float32. */
    F32(1, 4, 0),
    /** bfloat16. */
    BF16(1, 2, 30),
    /** IEEE half. */
    F16(1, 2, 1),
    /** 8-bit blocks of 32 with a half scale (8.5 bits a weight). */
    Q8_0(32, 34, 8),
    /** 4-bit blocks of 32 with a half scale (4.5 bits a weight). */
    Q4_0(32, 18, 2);

    /** Weights per block of the quantized formats. */
    public static final int BLOCK = 32;

    private final int blockWeights;
    private final int blockBytes;
    private final int ggmlType;

    WeightFormat(int blockWeights, int blockBytes, int ggmlType) {
        this.blockWeights = blockWeights;
        this.blockBytes = blockBytes;
        this.ggmlType = ggmlType;
    }

    /** Weights per block: 32 for Q8_0 and Q4_0, 1 for the float formats. */
    public int blockWeights() {
        return blockWeights;
    }

    /** Bytes per block (per weight for the float formats). */
    public int blockBytes() {
        return blockBytes;
    }

    /** The {@code ggml_type} number GGUF uses for this format. */
    public int ggmlType() {
        return ggmlType;
    }

    /** Whether the format is a block-quantized one (Q8_0, Q4_0). */
    public boolean quantized() {
        return blockWeights > 1;
    }

    /**
     * Bytes of one row of {@code cols} weights.
     *
     * @throws IllegalArgumentException if {@code cols} is not positive or, for a block format, not a multiple of
     *                                  {@value #BLOCK}
     */
    public long rowBytes(long cols) {
        if (cols <= 0) {
            throw new IllegalArgumentException(this + ": a row needs a positive number of weights, got " + cols);
        }
        if (cols % blockWeights != 0) {
            throw new IllegalArgumentException(this + ": a row of " + cols + " weights is not a whole number of "
                    + blockWeights + "-weight blocks");
        }
        return cols / blockWeights * blockBytes;
    }

    /** Whether rows of {@code cols} weights can be held in this format. */
    public boolean fits(long cols) {
        return cols > 0 && cols % blockWeights == 0;
    }

    /** The format whose {@code ggml_type} number is {@code type}, or null when there is none. */
    public static WeightFormat ofGgmlType(int type) {
        for (WeightFormat f : values()) {
            if (f.ggmlType == type) {
                return f;
            }
        }
        return null;
    }

    /**
     * {@code f32}, {@code bf16}, {@code f16}, {@code q8_0} or {@code q4_0}, in any case.
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static WeightFormat parse(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        for (WeightFormat f : values()) {
            if (f.name().equals(n)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + name + "'; valid: f32, bf16, f16, q8_0, q4_0");
    }
}
