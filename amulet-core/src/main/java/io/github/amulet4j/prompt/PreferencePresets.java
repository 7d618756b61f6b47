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

    /**
     * The preset that {@code text} is probably a misspelling of: a single word (no whitespace) that is not a preset
     * name but within a small edit distance of one (at most 1 edit for names under 7 letters, else 2; insertions,
     * deletions, substitutions and swaps of neighbours, case-insensitive). Empty for free text (anything with a
     * space, or a word not close to a preset) and for exact preset names. Front ends refuse such a word with
     * "did you mean ...?" rather than silently taking it as free text.
     */
    public static Optional<String> nearMiss(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String word = text.trim().toLowerCase(Locale.ROOT);
        if (word.isEmpty() || word.chars().anyMatch(Character::isWhitespace) || PRESETS.containsKey(word)) {
            return Optional.empty();
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String name : PRESETS.keySet()) {
            int d = editDistance(word, name);
            if (d <= (name.length() < 7 ? 1 : 2) && d < bestDistance) {
                best = name;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Optimal string alignment distance (Levenshtein plus swaps of neighbouring letters). */
    static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** The paper's system prompt with {@code preference} filled in ({@code ""} for the base stream). */
    public static String paperSystemPrompt(String preference) {
        return PAPER_SYSTEM_PROMPT.replace(PLACEHOLDER, preference == null ? "" : preference);
    }
}
