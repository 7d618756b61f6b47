/**
 * JMH benchmarks: the Amulet step against its baselines, and the Java weight kernels against their baseline.
 */
package io.github.amulet4j.benchmarks;
