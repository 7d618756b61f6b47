package io.github.amulet4j.prompt;

import java.util.Objects;

/**
 * A user preference: the text added to the preference stream's system message.
 *
 * @param text the preference text (non-blank)
 */
public record Preference(String text) {

    public Preference {
        Objects.requireNonNull(text, "preference text");
        if (text.isBlank()) {
            throw new IllegalArgumentException("preference text is blank");
        }
    }

    /** Free text. */
    public static Preference text(String text) {
        return new Preference(text);
    }

    /**
     * A preset of the paper by name.
     *
     * @throws IllegalArgumentException listing the preset names
     */
    public static Preference preset(String name) {
        return new Preference(PreferencePresets.get(name));
    }

    /** A preset when {@code presetOrText} names one (case-insensitive), otherwise free text. */
    public static Preference of(String presetOrText) {
        Objects.requireNonNull(presetOrText, "preference");
        return PreferencePresets.find(presetOrText).map(Preference::new).orElseGet(() -> new Preference(presetOrText));
    }
}
