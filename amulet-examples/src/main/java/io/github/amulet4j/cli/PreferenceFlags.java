package io.github.amulet4j.cli;

import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The one preference of {@code generate}, {@code chat}, {@code compare} and {@code prompt}: {@code --preference}
 * (a preset name, else free text; a word that looks like a misspelt preset is refused) or {@code --preference-text}
 * (always free text).
 */
public final class PreferenceFlags {

    @ArgGroup(exclusive = true)
    Choice choice;

    static final class Choice {
        @Option(names = "--preference", paramLabel = "PRESET|TEXT",
                description = "The preference: one of the paper's presets (creative, sycophantic, verbose, complex, "
                        + "formal, pleasant, concise, uplifting), else free text; a single word close to a preset "
                        + "name is refused as a likely typo (use --preference-text for it).")
        String preference;

        @Option(names = "--preference-text", paramLabel = "TEXT",
                description = "The preference as free text, never read as a preset name.")
        String text;
    }

    /** Whether a preference was given. */
    boolean given() {
        return choice != null;
    }

    /**
     * The preference given, or null when none is.
     *
     * @throws UsageException for a blank value or a likely misspelt preset name
     */
    Preference preferenceOrNull() {
        if (choice == null) {
            return null;
        }
        return choice.text != null ? Options.freeText(choice.text, "--preference-text")
                : Options.preference(choice.preference, "--preference");
    }

    /** The preference given. @throws UsageException when none is */
    Preference required() {
        Preference p = preferenceOrNull();
        if (p == null) {
            throw new UsageException("--preference: a preference is needed (a preset name such as 'concise', "
                    + "or free text)");
        }
        return p;
    }
}
