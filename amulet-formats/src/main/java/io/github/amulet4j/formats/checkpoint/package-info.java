/**
 * Hugging Face checkpoints: {@code config.json} ({@link io.github.amulet4j.formats.checkpoint.ModelConfig}), the
 * tensor names and shapes each architecture has ({@link io.github.amulet4j.formats.checkpoint.TensorLayout}), rotary
 * frequencies, and tensor stores over safetensors files (read and write, sharded or single) or memory.
 */
package io.github.amulet4j.formats.checkpoint;
