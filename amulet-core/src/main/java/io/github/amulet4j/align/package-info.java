/**
 * The per-token step of each method of the Amulet paper: the Amulet online-learning step in its closed
 * form ({@link io.github.amulet4j.align.ClosedFormAmulet}, the default) and its literal iterative form
 * ({@link io.github.amulet4j.align.IterativeAmulet}), linear alignment, and the single streams.
 */
package io.github.amulet4j.align;
