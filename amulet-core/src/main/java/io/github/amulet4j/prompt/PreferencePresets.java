package io.github.amulet4j.prompt;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The eight preference presets of the Amulet paper and its system prompt wrapper.
 *
 * <p>Texts from the paper's experimental setup (datasets/preferences.json of the Amulet release,
 * MIT License, Copyright (c) 2025 Zhaowei Zhang).
 */
public final class PreferencePresets {

    /** The paper's system prompt; {@code {preference}} is replaced by the preference text (or by nothing). */
    public static final String PAPER_SYSTEM_PROMPT = "You are an AI designed to provide the most helpful, clear, "
            + "and concise responses. Focus on giving actionable information, ensuring accuracy and detail without "
            + "overwhelming the user. You should also be patient, polite, and calm. Avoid unnecessary complexity and "
            + "always prioritize practical, user-friendly advice. {preference}";

    /** Placeholder in {@link #PAPER_SYSTEM_PROMPT}. */
    public static final String PLACEHOLDER = "{preference}";

    private static final Map<String, String> PRESETS;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        for (String name : new String[] {"creative", "sycophantic", "verbose", "complex", "formal", "pleasant",
                "concise", "uplifting"}) {
            m.put(name, "Your answer should be " + name + " as much as possible.");
        }
        PRESETS = java.util.Collections.unmodifiableMap(m);
    }

    private PreferencePresets() {
    }

    /** Preset name to text, in the paper's order. */
    public static Map<String, String> all() {
        return PRESETS;
    }

    /** The text of preset {@code name} (case-insensitive), if it exists. */
    public static Optional<String> find(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(PRESETS.get(name.trim().toLowerCase(Locale.ROOT)));
    }

    /**
     * The text of preset {@code name}.
     *
     * @throws IllegalArgumentException listing the preset names
     */
    public static String get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown preference preset '" + name + "'; presets: " + String.join(", ", PRESETS.keySet())));
    }

    /** The paper's system prompt with {@code preference} filled in ({@code ""} for the base stream). */
    public static String paperSystemPrompt(String preference) {
        return PAPER_SYSTEM_PROMPT.replace(PLACEHOLDER, preference == null ? "" : preference);
    }
}
