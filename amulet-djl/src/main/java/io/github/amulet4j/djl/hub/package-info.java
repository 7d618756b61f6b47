/**
 * The Hugging Face Hub client: resolving revisions, downloading files into the Hub's cache layout, with progress and
 * resumption.
 */
package io.github.amulet4j.djl.hub;
