/**
 * The backend SPI the generation loop runs on: a causal LM ({@link io.github.amulet4j.backend.CausalLm}), its batched
 * decoding sessions, their logits, and a tokenizer. Implemented by amulet-transformer's {@code DecoderLm} (and so
 * amulet-djl's models), or by any model a user wraps.
 */
package io.github.amulet4j.backend;
