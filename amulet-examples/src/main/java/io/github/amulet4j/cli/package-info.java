/**
 * The {@code amulet} command line (picocli): thin commands over the library modules.
 */
package io.github.amulet4j.cli;
