/**
 * llama.cpp's GGUF files: reading (metadata, tensors, ggml block types, the model configuration and tokenizer they
 * hold) and writing (a Hugging Face folder converted to one GGUF file).
 */
package io.github.amulet4j.formats.gguf;
