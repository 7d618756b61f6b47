package io.github.amulet4j.eval;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.prompt.Preference;

import java.util.List;
import java.util.Objects;

/**
 * One generation of an eval run: a question under a method and a preference. A {@code base} task, whose stream never
 * holds the preference, is generated once per question and its row written for {@code preferenceName} and copied
 * ({@link EvalRows#baseCopy}) for every name of {@code copies}.
 *
 * @param copies preference names the row is copied for (only for {@code base}; empty otherwise)
 */
public record EvalTask(Question question, String preferenceName, Preference preference, AlignmentMethod method,
                       List<String> copies) {

    public EvalTask {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(preferenceName, "preferenceName");
        Objects.requireNonNull(preference, "preference");
        Objects.requireNonNull(method, "method");
        copies = List.copyOf(copies);
    }

    /** The key of the row this task generates. */
    public RowKey key() {
        return new RowKey(question.index(), method.id(), preferenceName);
    }
}
