package io.github.amulet4j.transformer;

/**
 * What a model's weights take: bytes on an engine's device, on the Java heap and off it (the native kernels'
 * matrices), bytes of the linear weights and output head as held, the formats the Java or native kernels hold them in
 * ({@code BF16}, {@code Q4_0+F16}; empty on an engine), and the bytes of one element of the other weights (norms,
 * biases).
 */
public record WeightFootprint(long deviceBytes, long heapBytes, long offHeapBytes, long linearBytes, String formats,
                              int vectorElementBytes) {
}
