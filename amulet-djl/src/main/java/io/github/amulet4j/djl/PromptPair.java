package io.github.amulet4j.djl;

import java.util.Objects;

/**
 * The two prompts of a request: the base stream (the conversation as given) and the preference stream
 * (the same conversation with the preference in the system message).
 *
 * @param base       the base stream
 * @param preference the preference stream
 */
public record PromptPair(TokenizedPrompt base, TokenizedPrompt preference) {

    public PromptPair {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(preference, "preference");
    }
}
