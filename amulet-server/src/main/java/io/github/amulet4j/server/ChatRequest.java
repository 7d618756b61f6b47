package io.github.amulet4j.server;

import io.github.amulet4j.djl.AmuletRequest;

/**
 * One parsed and validated {@code POST /v1/chat/completions} body: the library request it becomes and
 * what the response needs.
 *
 * @param request      the conversation, preference, prompt style and generation configuration
 * @param stream       answer with server-sent events
 * @param includeUsage with {@code stream}: a last chunk with the token usage ({@code stream_options.include_usage})
 */
public record ChatRequest(AmuletRequest request, boolean stream, boolean includeUsage) {
}
