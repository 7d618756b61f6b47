package io.github.amulet4j.eval;

import java.util.Objects;

/**
 * One entry of a question set in the paper's format.
 *
 * @param index    the entry's {@code index} field (unique within the set)
 * @param question the entry's {@code question} text
 */
public record Question(int index, String question) {

    public Question {
        Objects.requireNonNull(question, "question");
    }
}
