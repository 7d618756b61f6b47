/**
 * {@code amulet eval} as an Apache Spark job: one model per executor, each row written exactly once under retries and
 * reruns.
 */
package io.github.amulet4j.spark;
