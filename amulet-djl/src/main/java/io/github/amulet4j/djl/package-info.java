/**
 * The library users embed: {@link io.github.amulet4j.djl.AmuletModel} over a Hugging Face folder, a Hub id or a GGUF
 * file, with its options, requests, conversations, prompt rendering and batcher.
 */
package io.github.amulet4j.djl;
