package io.github.amulet4j.eval.judge;

import java.util.Objects;

/** One message of a chat-completions request: {@code role} ({@code user}, {@code assistant}, {@code system}) and text. */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
