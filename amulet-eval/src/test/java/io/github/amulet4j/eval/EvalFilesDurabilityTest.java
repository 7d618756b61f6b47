package io.github.amulet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.judge.Judgement;
import io.github.amulet4j.eval.judge.JudgementKey;
import io.github.amulet4j.eval.judge.JudgementsFile;
import io.github.amulet4j.eval.judge.JudgeSettings;
import io.github.amulet4j.eval.judge.Verdict;
import io.github.amulet4j.generate.GenerationConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 25: the settings sidecar is replaced durably, a corrupt one is explained, judgements survive interrupts. */
class EvalFilesDurabilityTest {

    @TempDir
    Path dir;

    private static EvalSettings settings() {
        return EvalSettingsDecodingTest.settings(AlignmentMethod.AMULET, GenerationConfig.builder().build());
    }

    @Test
    void settingsAreReplacedAtomicallyWithoutATemporaryFileLeft() throws Exception {
        Path sidecar = EvalSettings.fileFor(dir.resolve("results.jsonl"));
        Files.writeString(sidecar, "{\"model\": \"old\"}\n");
        settings().write(sidecar);
        assertEquals(settings().text(), Files.readString(sidecar));
        assertEquals(List.of(sidecar.getFileName().toString()),
                Files.list(dir).map(p -> p.getFileName().toString()).toList(), "no .tmp file left behind");
        assertTrue(EvalSettings.read(sidecar).isPresent());
        // a stale temporary file of a crashed write is replaced, not appended to
        Files.writeString(sidecar.resolveSibling(sidecar.getFileName() + ".tmp"), "x".repeat(10_000));
        settings().write(sidecar);
        assertEquals(settings().text(), Files.readString(sidecar));
    }

    @Test
    void aCorruptSidecarIsExplainedWithoutAdvisingOverwriteFirst() throws Exception {
        Path sidecar = EvalSettings.fileFor(dir.resolve("results.jsonl"));
        String text = settings().text();
        Files.writeString(sidecar, text.substring(0, text.length() / 2)); // cut by a crash
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalSettings.read(sidecar));
        String m = e.getMessage();
        assertTrue(m.contains(sidecar.toString()) && m.contains("not valid JSON"), m);
        assertTrue(m.contains("Restore it") && m.contains("another --out"), m);
        int overwrite = m.indexOf("--overwrite");
        assertTrue(overwrite < 0 || overwrite > m.indexOf("Restore it") && m.contains("deletes them all"),
                "--overwrite (which deletes every result) must not be the first remedy: " + m);
        Files.write(sidecar, new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        e = assertThrows(IllegalArgumentException.class, () -> EvalSettings.read(sidecar));
        assertTrue(e.getMessage().contains("Restore it"), e.getMessage());
    }

    @Test
    void anInterruptNeitherCutsAJudgementLineNorClosesTheFile() throws Exception {
        Path out = dir.resolve("judgements.jsonl");
        JudgeSettings js = new JudgeSettings("https://api.openai.com/v1", "judge", "abc", 0.0, null);
        try (JudgementsFile file = JudgementsFile.open(out, js)) {
            Thread.currentThread().interrupt();
            try {
                file.append(judgement(0));
                file.append(judgement(1));
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt stays set for the caller");
            }
            file.append(judgement(2));
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(4, lines.size(), String.join("\n", lines));
        for (String line : lines) {
            assertTrue(line.startsWith("{") && line.endsWith("}"), line);
        }
        try (JudgementsFile again = JudgementsFile.open(out, js)) {
            assertEquals(0, again.truncatedBytes());
            assertFalse(again.toString().isEmpty());
        }
    }

    @Test
    void anInterruptNeitherCutsAResultRowNorClosesTheFile() throws Exception {
        Path out = dir.resolve("results.jsonl");
        try (ResultsFile file = ResultsFile.open(out)) {
            Thread.currentThread().interrupt();
            try {
                file.append(ResultsFileTest.row(0, "amulet", "concise", "a"));
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt stays set for the caller");
            }
            file.append(ResultsFileTest.row(1, "amulet", "concise", "b"));
        }
        try (ResultsFile again = ResultsFile.open(out)) {
            assertEquals(2, again.existingRows().size());
            assertEquals(0, again.truncatedBytes());
        }
    }

    private static Judgement judgement(int index) {
        return new Judgement(new JudgementKey(index, "concise", "base", "amulet"), "sha", Verdict.A, "A", null,
                "judge", "abc", 1, 0.5);
    }
}
