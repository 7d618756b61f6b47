/**
 * {@code amulet serve}: an OpenAI-compatible chat-completions server with per-request preferences over
 * continuous batching ({@link io.github.amulet4j.server.AmuletServer}), and the web page it serves at {@code /}.
 */
package io.github.amulet4j.server;
