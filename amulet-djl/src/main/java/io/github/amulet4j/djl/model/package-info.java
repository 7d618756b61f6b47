/**
 * Loading a checkpoint for its {@link io.github.amulet4j.djl.model.RuntimeOptions}: {@link
 * io.github.amulet4j.djl.model.DjlCausalLm} picks a backend, the pure-Java pass (the CPU default; no engine is
 * started) or DJL's PyTorch engine (GPUs, float16, the engine kernel).
 */
package io.github.amulet4j.djl.model;
