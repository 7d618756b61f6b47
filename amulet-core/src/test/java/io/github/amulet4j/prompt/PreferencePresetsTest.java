package io.github.amulet4j.prompt;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PreferencePresetsTest {

    @Test
    void misspelledPresetNamesAreRecognised() {
        assertEquals(Optional.of("concise"), PreferencePresets.nearMiss("consise"));   // substitution
        assertEquals(Optional.of("concise"), PreferencePresets.nearMiss("Concsie"));   // swap, any case
        assertEquals(Optional.of("formal"), PreferencePresets.nearMiss("formall"));    // insertion
        assertEquals(Optional.of("verbose"), PreferencePresets.nearMiss("verbse"));    // deletion
        assertEquals(Optional.of("sycophantic"), PreferencePresets.nearMiss("sycophentc")); // two edits, long name
        assertEquals(Optional.of("uplifting"), PreferencePresets.nearMiss(" upliftng "));
    }

    @Test
    void freeTextAndExactNamesAreNotNearMisses() {
        assertEquals(Optional.empty(), PreferencePresets.nearMiss("concise"));
        assertEquals(Optional.empty(), PreferencePresets.nearMiss("be consise"));    // a space: free text
        assertEquals(Optional.empty(), PreferencePresets.nearMiss("pirate"));
        assertEquals(Optional.empty(), PreferencePresets.nearMiss("formulas"));      // 3 edits from formal
        assertEquals(Optional.empty(), PreferencePresets.nearMiss("forma1x"));       // 2 edits, short name allows 1
        assertEquals(Optional.empty(), PreferencePresets.nearMiss(""));
        assertEquals(Optional.empty(), PreferencePresets.nearMiss(null));
    }

    @Test
    void editDistanceMatchesHandCountedCases() {
        assertEquals(0, PreferencePresets.editDistance("abc", "abc"));
        assertEquals(1, PreferencePresets.editDistance("abc", "acb"));
        assertEquals(3, PreferencePresets.editDistance("kitten", "sitting"));
        assertEquals(4, PreferencePresets.editDistance("", "abcd"));
    }
}
