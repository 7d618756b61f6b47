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
 *   <li>{@link #Q4_K}, {@link #Q5_K}, {@link #Q6_K}: ggml's K-quants, blocks of 256 weights ({@code block_q4_K} 144
 *       bytes, {@code block_q5_K} 176, {@code block_q6_K} 210) with 6- or 8-bit sub-block scales under half-precision
 *       block scales. Held exactly as a GGUF file stores them (read with {@link WeightMatrix#fromStoredBytes}); there is no
 *       quantizer for them here ({@link #superBlocks()}).</li>
 *   <li>{@link #Q5_0}: blocks of 22 bytes, ggml's {@code block_q5_0}: the scale {@code d} as an IEEE half, 32 high bits
 *       {@code qh}, then 16 bytes of low nibbles as Q4_0's; weight {@code j} is {@code d * (q - 16)} with bit {@code j}
 *       of {@code qh} as {@code q}'s fifth bit. Held as stored, like the K-quants ({@link #storedOnly()}).</li>
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
    Q4_0(32, 18, 2),
    /**
     * ggml's 5-bit blocks of 32 (5.5 bits a weight): held as a GGUF file stores them, multiplied by the native kernels
     * only ({@link #storedOnly()}).
     */
    Q5_0(32, 22, 6),
    /** ggml's 4-bit K-quant (4.5 bits a weight): 8 sub-blocks of 32 with 6-bit scales and minimums. */
    Q4_K(256, 144, 12),
    /** ggml's 5-bit K-quant (5.5 bits a weight). */
    Q5_K(256, 176, 13),
    /** ggml's 6-bit K-quant (6.5625 bits a weight): 16 sub-blocks of 16 with 8-bit scales. */
    Q6_K(256, 210, 14);

    /** Weights per block of the K-quants. */
    public static final int SUPER_BLOCK = 256;

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

    /** Weights per block: 32 for Q8_0 and Q4_0, 256 for the K-quants, 1 for the float formats. */
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

    /** Whether the format is a block-quantized one (Q8_0, Q4_0, or a K-quant). */
    public boolean quantized() {
        return blockWeights > 1;
    }

    /**
     * Whether the format is only ever held as a GGUF file stores it (the K-quants and Q5_0): there is no quantizer for
     * it here, and its rows are kept in the file's blocks as they are (never split into column panels).
     */
    public boolean storedOnly() {
        return superBlocks() || this == Q5_0;
    }

    /**
     * Whether the format is one of ggml's K-quants (blocks of {@value #SUPER_BLOCK}): held as read from a GGUF file,
     * never converted to from float32.
     */
    public boolean superBlocks() {
        return blockWeights == SUPER_BLOCK;
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
     * {@code f32}, {@code bf16}, {@code f16}, {@code q8_0}, {@code q4_0}, {@code q5_0}, {@code q4_k}, {@code q5_k} or
     * {@code q6_k}, in
     * any case.
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
        throw new IllegalArgumentException("unknown weight format '" + name + "'; valid: f32, bf16, f16, q8_0, q4_0, "
                + "q5_0, q4_k, q5_k, q6_k");
    }
}
