/**
 * The end-to-end decoding benchmark ({@code amulet bench}): tokens per second per method, memory, and the bound memory
 * bandwidth sets.
 */
package io.github.amulet4j.benchmarks.decode;
