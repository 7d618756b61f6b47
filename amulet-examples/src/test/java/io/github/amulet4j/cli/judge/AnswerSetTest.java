package io.github.amulet4j.cli.judge;

import io.github.amulet4j.eval.judge.AnswerSet;
import io.github.amulet4j.eval.judge.Comparison;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading eval results files tolerantly: headers and a partial last line are skipped, conflicts are named. */
class AnswerSetTest {

    @TempDir
    Path dir;

    @Test
    void skipsHeaderRowsAndAPartialLastLine() throws Exception {
        Path f = dir.resolve("r.jsonl");
        Files.writeString(f, "{\"type\": \"run_settings\", \"model\": \"tiny\", \"methods\": [\"base\"]}\n"
                + JudgeCommandTest.row(1, "base", "concise") + "\n"
                + JudgeCommandTest.row(1, "amulet", "concise") + "\n"
                + JudgeCommandTest.row(1, "amulet", "concise").toString().replace("M=amulet", "later duplicate") + "\n"
                + "{\"index\": 2, \"method\": \"ba");
        AnswerSet a = AnswerSet.read(List.of(f));
        assertEquals(2, a.all().size());
        assertEquals(2, a.skippedLines());
        assertEquals(Set.of("base", "amulet"), a.methods());
        assertEquals("M=amulet I=1 P=concise", a.find(1, "amulet", "concise").orElseThrow().text(), "the first row wins");
        List<Comparison> c = a.comparisons("amulet", "base", Set.of("concise"));
        assertEquals(1, c.size());
        assertEquals("Your answer should be concise as much as possible.", c.get(0).candidate().preferenceText());
    }

    @Test
    void presetTextWhenPreferenceTextIsMissing() throws Exception {
        JsonObject row = JudgeCommandTest.row(1, "base", "formal");
        row.remove("preference_text");
        Path f = dir.resolve("r.jsonl");
        Files.writeString(f, row + "\n");
        assertEquals("Your answer should be formal as much as possible.",
                AnswerSet.read(List.of(f)).find(1, "base", "formal").orElseThrow().preferenceText());
        row.addProperty("preference", "mine");
        Files.writeString(f, row + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnswerSet.read(List.of(f)));
        assertTrue(e.getMessage().contains("line 1: \"preference_text\" is missing and 'mine' is not a preset name"),
                e.getMessage());
    }

    @Test
    void namesTheFileLineAndField() throws Exception {
        JsonObject row = JudgeCommandTest.row(1, "base", "concise");
        row.remove("text");
        Path f = dir.resolve("r.jsonl");
        Files.writeString(f, JudgeCommandTest.row(2, "base", "concise") + "\n" + row + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnswerSet.read(List.of(f)));
        assertEquals("results file " + f + ", line 2: an answer row needs a string \"text\"", e.getMessage());
        Files.writeString(f, "not json\n" + JudgeCommandTest.row(2, "base", "concise") + "\n");
        e = assertThrows(IllegalArgumentException.class, () -> AnswerSet.read(List.of(f)));
        assertTrue(e.getMessage().startsWith("results file " + f + ", line 1 is not valid JSON"), e.getMessage());
    }

    @Test
    void twoFilesMayShareAnswersButNotDisagree() throws Exception {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Files.writeString(a, JudgeCommandTest.row(1, "base", "concise") + "\n");
        Files.writeString(b, JudgeCommandTest.row(1, "base", "concise") + "\n" + JudgeCommandTest.row(1, "amulet", "concise") + "\n");
        assertEquals(2, AnswerSet.read(List.of(a, b)).all().size());
        Files.writeString(b, JudgeCommandTest.row(1, "base", "concise").toString().replace("M=base", "other") + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnswerSet.read(List.of(a, b)));
        assertTrue(e.getMessage().contains("two different answers for index 1, method base, preference concise: "
                + a + " line 1 and " + b + " line 1"), e.getMessage());
    }
}
