/**
 * Short programs that show the library's API.
 */
package io.github.amulet4j.examples;
