package io.github.amulet4j.eval.judge;

import java.util.Objects;

/**
 * One answer of an {@code eval} results file: what one method wrote for one question under one preference.
 *
 * @param index          the question's index
 * @param method         the method that wrote it
 * @param preference     the preference name
 * @param preferenceText the preference as the model saw it (what the judge is told)
 * @param question       the question
 * @param text           the answer
 * @param source         where it was read: {@code FILE line N}
 */
public record Answer(int index, String method, String preference, String preferenceText, String question,
                     String text, String source) {

    public Answer {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(preference, "preference");
        Objects.requireNonNull(preferenceText, "preferenceText");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(source, "source");
    }
}
