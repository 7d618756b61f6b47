package io.github.amulet4j.spark;

import java.io.Serializable;
import java.util.List;

/**
 * One unit of work of a Spark eval run: a generation (a question, a method, a preference) whose row is written for
 * {@code preferenceName} and, for a {@code base} generation, copied for each name of {@code copyNames}; or, when
 * {@code line} is set, a row made on the driver (a copy of a {@code base} row already in the output) that is only
 * written.
 *
 * @param copyNames preference names the {@code base} row is copied for, with their texts in {@code copyTexts}
 * @param line      a finished row (JSON), or null for a generation
 */
record EvalItem(int index, String question, String method, String preferenceName, String preferenceText,
                List<String> copyNames, List<String> copyTexts, String line) implements Serializable {

    /** A generation. */
    static EvalItem generation(int index, String question, String method, String preferenceName,
                               String preferenceText, List<String> copyNames, List<String> copyTexts) {
        return new EvalItem(index, question, method, preferenceName, preferenceText, List.copyOf(copyNames),
                List.copyOf(copyTexts), null);
    }

    /** A row made on the driver, only written. */
    static EvalItem written(String line) {
        return new EvalItem(0, "", "", "", "", List.of(), List.of(), line);
    }

    /** Whether this item is a generation (not a finished row). */
    boolean generates() {
        return line == null;
    }

    /** Rows this item writes. */
    int rows() {
        return generates() ? 1 + copyNames.size() : 1;
    }
}
