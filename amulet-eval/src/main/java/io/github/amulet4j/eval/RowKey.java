package io.github.amulet4j.eval;

import java.util.Objects;

/**
 * What identifies one row of an eval run: a question's index, a method and a preference name.
 *
 * @param index      the question's index
 * @param method     the method name ({@code base}, {@code pref}, {@code la}, {@code amulet}, {@code beam})
 * @param preference the preference name (a preset name or a name from the preference file)
 */
public record RowKey(int index, String method, String preference) {

    public RowKey {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(preference, "preference");
    }
}
