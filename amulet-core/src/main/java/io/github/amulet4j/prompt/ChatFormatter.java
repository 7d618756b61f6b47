package io.github.amulet4j.prompt;

import java.util.List;

/**
 * Renders a conversation into the exact prompt text a model expects (a Hugging Face chat template, or
 * a plain fallback). Implementations throw {@link SystemRoleRejectedException} when the template
 * refuses a system message, so that the caller can fold the system text into the first user turn.
 */
public interface ChatFormatter {

    /** The prompt text for {@code messages}, with the assistant generation prompt appended when asked. */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Whether the rendered text already starts with the model's BOS token (then the tokenizer must not add another). */
    default boolean emitsBos(String rendered) {
        return false;
    }
}
