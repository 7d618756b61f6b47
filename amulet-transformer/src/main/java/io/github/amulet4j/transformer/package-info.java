/**
 * The decoder forward pass in Java: {@link io.github.amulet4j.transformer.DecoderLm} (a {@code CausalLm} over any
 * {@link io.github.amulet4j.transformer.ForwardPass}), its sessions and {@link
 * io.github.amulet4j.transformer.KvCache}, and the pure-Java pass {@link io.github.amulet4j.transformer.JavaForward}
 * with its weights, cache and product threads. No DJL type.
 */
package io.github.amulet4j.transformer;
