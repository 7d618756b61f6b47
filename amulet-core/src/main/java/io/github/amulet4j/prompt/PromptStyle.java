package io.github.amulet4j.prompt;

/** How the preference enters the system message. */
public enum PromptStyle {
    /** {@code S + " " + P}, or a new system message {@code P} (ALGORITHM.md section 1). */
    DEFAULT,
    /** The paper's system prompt with {@code {preference}} filled ({@code P}, or empty for the base stream). */
    PAPER
}
