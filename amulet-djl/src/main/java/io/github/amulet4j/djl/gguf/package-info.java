/**
 * A GGUF file as a model: its configuration, tensors and tokenizer ({@link io.github.amulet4j.djl.gguf.GgufModel}).
 */
package io.github.amulet4j.djl.gguf;
