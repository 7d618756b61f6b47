/**
 * Tokenizer-side model files: {@code tokenizer_config.json} (special tokens, chat templates) and {@code
 * generation_config.json} (end-of-sequence ids, sampling defaults).
 */
package io.github.amulet4j.formats.tokenizer;
