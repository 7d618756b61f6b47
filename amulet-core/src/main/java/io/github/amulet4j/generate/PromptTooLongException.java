package io.github.amulet4j.generate;

/** A prompt holds more tokens than the model's context; the message names both lengths. */
public final class PromptTooLongException extends IllegalArgumentException {

    private final int promptTokens;
    private final int maxPositions;

    public PromptTooLongException(int promptTokens, int maxPositions) {
        this("", promptTokens, maxPositions);
    }

    /** With {@code where} (such as {@code "request 2: "}) before the message. */
    PromptTooLongException(String where, int promptTokens, int maxPositions) {
        super(where + "prompt of " + promptTokens + " tokens exceeds the model's " + maxPositions + " positions");
        this.promptTokens = promptTokens;
        this.maxPositions = maxPositions;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int maxPositions() {
        return maxPositions;
    }
}
