/**
 * Weight matrices in their formats (F32, BF16, F16, llama.cpp's Q8_0 and Q4_0 blocks) and the Java Vector API kernels
 * that multiply them, reading each weight once for one or two columns (the two Amulet streams).
 */
package io.github.amulet4j.transformer.weights;
