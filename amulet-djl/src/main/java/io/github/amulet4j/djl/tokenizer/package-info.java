/**
 * Tokenizers: {@link io.github.amulet4j.djl.tokenizer.HfTokenizer} runs a {@code tokenizer.json} exactly through DJL's
 * Hugging Face tokenizers; tiny tokenizers for tests and random models.
 */
package io.github.amulet4j.djl.tokenizer;
