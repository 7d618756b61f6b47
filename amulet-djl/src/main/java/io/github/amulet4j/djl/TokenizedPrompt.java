package io.github.amulet4j.djl;

import java.util.Arrays;
import java.util.Objects;

/**
 * One stream's prompt exactly as the model sees it.
 *
 * @param text     the rendered chat-template text
 * @param tokenIds its token ids (with the BOS token when the tokenizer adds one)
 */
public record TokenizedPrompt(String text, int[] tokenIds) {

    public TokenizedPrompt {
        Objects.requireNonNull(text, "text");
        tokenIds = Objects.requireNonNull(tokenIds, "tokenIds").clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Number of tokens. */
    public int length() {
        return tokenIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedPrompt p && p.text.equals(text) && Arrays.equals(p.tokenIds, tokenIds);
    }

    @Override
    public int hashCode() {
        return 31 * text.hashCode() + Arrays.hashCode(tokenIds);
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[" + tokenIds.length + " tokens, text=" + text + "]";
    }
}
