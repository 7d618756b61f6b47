/** Threads of a model's load: {@link io.github.amulet4j.djl.concurrent.BackgroundLoad}. */
package io.github.amulet4j.djl.concurrent;
