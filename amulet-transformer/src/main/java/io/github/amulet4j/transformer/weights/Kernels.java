package io.github.amulet4j.transformer.weights;

import java.util.Locale;

/**
 * Which kernels multiply the weights: {@link #JAVA} (the Vector API kernels, every format), {@link #NATIVE} (the C
 * kernels of {@link NativeKernels}, {@link NativeFloat16Kernels} and {@link KQuantKernels} for every product in Q8_0,
 * Q4_0, F32, F16, BF16, Q4_K, Q5_K and Q6_K, prefill and decode steps of any width, each column's result the one it gets
 * alone; the Java ones for the other formats) or
 * {@link #AUTO} (native where the library is loaded and has a SIMD variant for this CPU, else Java).
 */
public enum Kernels {
    AUTO, JAVA, NATIVE;

    /**
     * {@code auto}, {@code java} or {@code native}, in any case.
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static Kernels parse(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        for (Kernels k : values()) {
            if (k.name().equals(n)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown kernels '" + name + "'; valid: auto, java, native");
    }

    /**
     * {@link #JAVA} or {@link #NATIVE}: AUTO resolved for this JVM and CPU.
     *
     * @throws IllegalStateException for NATIVE where the library is not loaded, saying why
     */
    public Kernels resolve() {
        return switch (this) {
            case JAVA -> JAVA;
            case NATIVE -> {
                if (!NativeKernels.available()) {
                    throw new IllegalStateException("kernels NATIVE: " + NativeKernels.unavailableReason()
                            + "; use kernels AUTO or JAVA");
                }
                yield NATIVE;
            }
            case AUTO -> NativeKernels.accelerated() ? NATIVE : JAVA;
        };
    }

    /** One line saying which kernels run for {@code format} and why (for the load log). */
    public String describe(WeightFormat format) {
        Kernels k = resolve();
        String asked = this == AUTO ? "auto" : "asked for";
        if (k == JAVA) {
            if (this == JAVA) {
                return "Java kernels (asked for)";
            }
            return "Java kernels (auto: " + (NativeKernels.available()
                    ? "the native library has no SIMD variant for this CPU" : NativeKernels.unavailableReason()) + ")";
        }
        if (!NativeKernels.supports(format)) {
            return "Java kernels (" + asked + " native, variant " + NativeKernels.variantName() + ", but it multiplies "
                    + "Q8_0, Q4_0, F32, F16, BF16 and the K-quants only, not " + format + ")";
        }
        return "native kernels " + NativeKernels.variantName(format) + " (" + asked + ") for " + format
                + " products (prefill and decode)"
                + (format == WeightFormat.Q4_0 ? ", rows interleaved by 8 at load" : "");
    }
}
