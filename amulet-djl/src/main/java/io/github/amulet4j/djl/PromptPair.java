package io.github.amulet4j.djl;

/**
 * The two prompts of a request: the base stream (the conversation as given) and the preference stream
 * (the same conversation with the preference in the system message).
 *
 * @param base       the base stream; null from {@link PromptRenderer#renderFor} when the method does not read it
 * @param preference the preference stream; null from {@link PromptRenderer#renderFor} when the method does not read it
 */
public record PromptPair(TokenizedPrompt base, TokenizedPrompt preference) {

    /** At least one stream. */
    public PromptPair {
        if (base == null && preference == null) {
            throw new NullPointerException("a prompt pair needs a base or a preference prompt");
        }
    }
}
