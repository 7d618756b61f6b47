package io.github.amulet4j.cli;

import io.github.amulet4j.eval.Question;
import io.github.amulet4j.eval.judge.Answer;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code amulet eval}: rows, summary, and resuming after an interruption without duplicates or lost rows. */
class EvalCommandTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path dataset;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
        dataset = dir.resolve("questions.json");
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 3; i++) {
            sb.append(i > 0 ? "," : "").append("{\"index\": ").append(10 + i).append(", \"question\": \"Question number ")
                    .append(i).append("?\"}");
        }
        Files.writeString(dataset, sb.append("]").toString());
    }

    private static String[] evalArgs(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--dataset", dataset.toString(),
                "--methods", "base,amulet", "--preferences", "concise", "--preference-file", prefFile().toString(),
                "--max-new-tokens", "3", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** {@link #evalArgs} with {@code flag} set to {@code value} (replaced where evalArgs has it, else added). */
    private static List<String> argsWith(Path out, String... flagValues) {
        List<String> args = new ArrayList<>(List.of(evalArgs(out)));
        for (int i = 0; i < flagValues.length; i += 2) {
            int at = args.indexOf(flagValues[i]);
            if (at >= 0) {
                args.set(at + 1, flagValues[i + 1]);
            } else {
                args.add(flagValues[i]);
                args.add(flagValues[i + 1]);
            }
        }
        args.add("--no-progress");
        return args;
    }

    private static Path prefFile() {
        Path p = dir.resolve("prefs.json");
        try {
            if (!Files.exists(p)) {
                Files.writeString(p, "{\"brief\": \"Answer in five words.\"}");
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return p;
    }

    /** Rows by key; fails on a duplicate key or an invalid line. */
    static Map<String, JsonObject> rows(Path file) throws IOException {
        Map<String, JsonObject> rows = new HashMap<>();
        String content = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(content.isEmpty() || content.endsWith("\n"), "the file ends with a whole line");
        for (String line : content.lines().toList()) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            String key = o.get("index").getAsInt() + "/" + o.get("method").getAsString() + "/" + o.get("preference").getAsString();
            assertTrue(rows.put(key, o) == null, "duplicate row " + key);
        }
        return rows;
    }

    /** The whole lines of a file (a partial last line, as a kill may leave, is left out); none when absent. */
    static List<String> wholeLines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String content = Files.readString(file, StandardCharsets.UTF_8);
        return content.substring(0, content.lastIndexOf('\n') + 1).lines().toList();
    }

    @Test
    void writesEveryQuestionMethodPreferenceAndASummary() throws IOException {
        Path out = dir.resolve("full.jsonl");
        CliRun r = CliRun.run(evalArgs(out, "--no-progress"));
        assertEquals(0, r.exitCode(), r::toString);
        Map<String, JsonObject> rows = rows(out);
        assertEquals(3 * 2 * 2, rows.size());
        JsonObject row = rows.get("10/amulet/brief");
        assertEquals("Answer in five words.", row.get("preference_text").getAsString());
        assertEquals("Question number 0?", row.get("question").getAsString());
        for (String f : List.of("text", "token_ids", "new_tokens", "prompt_tokens", "seconds", "tokens_per_second", "model")) {
            assertTrue(row.has(f), f);
        }
        assertTrue(r.out().contains("mean new tokens") && r.out().contains("amulet") && r.out().contains("base"), r::toString);

        // a second run finds everything done and changes nothing
        String before = Files.readString(out);
        CliRun again = CliRun.run(evalArgs(out, "--no-progress"));
        assertEquals(0, again.exitCode(), again::toString);
        assertEquals(before, Files.readString(out));
        assertTrue(again.err().contains("12 of 12 rows already done"), again::toString);
    }

    @Test
    void batchedRowsEqualRowsRunOneByOneAndResumeLikeThem() throws IOException {
        Path single = dir.resolve("single.jsonl");
        assertEquals(0, CliRun.run(evalArgs(single, "--no-progress")).exitCode());
        Path batched = dir.resolve("batched.jsonl");
        // 12 rows in batches of 5 (5, 5, 2): mixed methods and preferences in one batch
        CliRun r = CliRun.run(evalArgs(batched, "--no-progress", "--batch", "5"));
        assertEquals(0, r.exitCode(), r::toString);
        Map<String, JsonObject> want = rows(single);
        Map<String, JsonObject> got = rows(batched);
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, JsonObject> e : want.entrySet()) {
            JsonObject g = got.get(e.getKey());
            assertEquals(e.getValue().get("token_ids"), g.get("token_ids"), e.getKey());
            assertEquals(e.getValue().get("text"), g.get("text"), e.getKey());
            // base is generated once per question: 3 base + 6 amulet generations in batches of 5 (5, 4)
            assertTrue(g.get("batch").getAsInt() == 5 || g.get("batch").getAsInt() == 4, g.toString());
        }
        // drop the last 4 rows as if the run had stopped there: the resumed batched run redoes exactly those
        List<String> lines = Files.readAllLines(batched);
        Files.write(batched, lines.subList(0, 8));
        CliRun again = CliRun.run(evalArgs(batched, "--no-progress", "--batch", "5"));
        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(again.err().contains("8 of 12 rows already done"), again::toString);
        Map<String, JsonObject> resumed = rows(batched);
        assertEquals(want.keySet(), resumed.keySet());
        for (Map.Entry<String, JsonObject> e : want.entrySet()) {
            assertEquals(e.getValue().get("token_ids"), resumed.get(e.getKey()).get("token_ids"), e.getKey());
        }
        CliRun bad = CliRun.run(evalArgs(dir.resolve("bad.jsonl"), "--batch", "0"));
        assertEquals(AmuletCli.USAGE, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("--batch"), bad::toString);
    }

    /** A second run into the same --out with other settings is refused, naming them, unless --overwrite. */
    @Test
    void appendingUnderOtherSettingsIsRefusedUnlessOverwrite() throws IOException {
        Path out = dir.resolve("settings.jsonl");
        assertEquals(0, CliRun.run(evalArgs(out, "--no-progress", "--limit", "1")).exitCode());
        String before = Files.readString(out);

        List<String[]> others = List.of(
                new String[] {"--max-new-tokens", "4"},            // max_new_tokens
                new String[] {"--system", "You are terse."},        // system
                new String[] {"--eta", "5"},                        // amulet.eta
                new String[] {"--prompt-style", "paper"},           // prompt_style
                new String[] {"--temperature", "0.7", "--seed", "1"}); // decoding
        List<String> named = List.of("max_new_tokens: 3 -> 4", "system: null -> \"You are terse.\"", "amulet.eta: 10",
                "prompt_style: \"default\" -> \"paper\"", "decoding: \"greedy\" -> \"sample\"");
        for (int i = 0; i < others.size(); i++) {
            List<String> args = new ArrayList<>(List.of(evalArgs(out, "--no-progress")));
            int at = args.indexOf("--max-new-tokens");
            if (others.get(i)[0].equals("--max-new-tokens")) {
                args.set(at + 1, "4");
            } else {
                args.addAll(List.of(others.get(i)));
            }
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertEquals(AmuletCli.USAGE, r.exitCode(), r::toString);
            assertTrue(r.err().contains(named.get(i)) && r.err().contains("--overwrite"), named.get(i) + ": " + r);
            assertEquals(before, Files.readString(out), "nothing appended");
        }
        Path sidecar = dir.resolve("settings.jsonl.settings.json");
        JsonObject recorded = JsonParser.parseString(Files.readString(sidecar)).getAsJsonObject();
        assertEquals(model.toString(), recorded.get("model").getAsString());
        assertEquals(3, recorded.get("max_new_tokens").getAsInt());
        assertEquals(60, recorded.getAsJsonObject("methods").getAsJsonObject("amulet").get("iterations").getAsInt());
        assertEquals("Answer in five words.", recorded.getAsJsonObject("preferences").get("brief").getAsString());
        // the same preference name with another text
        Path otherPrefs = dir.resolve("other-prefs.json");
        Files.writeString(otherPrefs, "{\"brief\": \"Answer in ten words.\"}");
        List<String> args = new ArrayList<>(List.of(evalArgs(out, "--no-progress")));
        args.set(args.indexOf("--preference-file") + 1, otherPrefs.toString());
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals(AmuletCli.USAGE, r.exitCode(), r::toString);
        assertTrue(r.err().contains("preference 'brief'") && r.err().contains("Answer in ten words."), r::toString);

        // same settings, more questions and another method: appended
        CliRun more = CliRun.run(argsWith(out, "--methods", "base,amulet,pref").toArray(String[]::new));
        assertEquals(0, more.exitCode(), more::toString);
        assertEquals(3 * 3 * 2, rows(out).size());
        assertTrue(Files.readString(out).startsWith(before));
        assertTrue(Files.readString(sidecar).contains("\"pref\""), "the settings now name the added method");

        // --overwrite: a new run in the same file with the new settings
        List<String> over = new ArrayList<>(List.of(evalArgs(out, "--no-progress", "--limit", "1", "--overwrite")));
        over.set(over.indexOf("--max-new-tokens") + 1, "4");
        CliRun o = CliRun.run(over.toArray(String[]::new));
        assertEquals(0, o.exitCode(), o::toString);
        Map<String, JsonObject> fresh = rows(out);
        assertEquals(2 * 2, fresh.size(), fresh.keySet().toString());
        assertEquals(4, JsonParser.parseString(Files.readString(sidecar)).getAsJsonObject().get("max_new_tokens").getAsInt());

        // rows without a settings file (an older run): refused too
        Files.delete(sidecar);
        CliRun none = CliRun.run(over.subList(0, over.size() - 1).toArray(String[]::new)); // without --overwrite
        assertEquals(AmuletCli.USAGE, none.exitCode(), none::toString);
        assertTrue(none.err().contains("no settings file") && none.err().contains("--overwrite"), none::toString);
    }

    /** base never holds the preference: generated once per question, recorded for every preference. */
    @Test
    void baseIsGeneratedOncePerQuestionAndRecordedForEveryPreference() throws IOException {
        Path out = dir.resolve("base.jsonl");
        CliRun r = CliRun.run(argsWith(out, "--methods", "base", "--max-new-tokens", "4").toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::toString);
        Map<String, JsonObject> rows = rows(out);
        assertEquals(3 * 2, rows.size());
        for (int index = 10; index < 13; index++) {
            JsonObject concise = rows.get(index + "/base/concise");
            JsonObject brief = rows.get(index + "/base/brief");
            assertEquals(concise.get("token_ids"), brief.get("token_ids"));
            assertEquals("Answer in five words.", brief.get("preference_text").getAsString());
            assertTrue(!concise.has("copy_of") && "concise".equals(brief.get("copy_of").getAsString()), brief.toString());
            assertEquals(0.0, brief.get("seconds").getAsDouble());
        }
        // the copied rows are what a run with that preference alone generates
        Path alone = dir.resolve("base-alone.jsonl");
        List<String> args = argsWith(alone, "--methods", "base", "--max-new-tokens", "4");
        args.remove(args.indexOf("--preferences") + 1);
        args.remove("--preferences");
        assertEquals(0, CliRun.run(args.toArray(String[]::new)).exitCode());
        Map<String, JsonObject> aloneRows = rows(alone);
        for (int index = 10; index < 13; index++) {
            assertEquals(aloneRows.get(index + "/base/brief").get("token_ids"), rows.get(index + "/base/brief").get("token_ids"));
            assertTrue(!aloneRows.get(index + "/base/brief").has("copy_of"));
        }
        // the summary counts each generation once: 3 generated rows of 6
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("base") && l.split("\\s+")[1].equals("6")), r::toString);
        // a later run with another preference copies the base rows it already has, generating nothing
        Path prefs2 = dir.resolve("prefs2.json");
        Files.writeString(prefs2, "{\"brief\": \"Answer in five words.\", \"poet\": \"Answer like a poet.\"}");
        List<String> more = argsWith(out, "--methods", "base", "--max-new-tokens", "4", "--preference-file",
                prefs2.toString());
        CliRun m = CliRun.run(more.toArray(String[]::new));
        assertEquals(0, m.exitCode(), m::toString);
        assertTrue(m.err().contains("3 new rows"), m::toString);
        Map<String, JsonObject> all = rows(out);
        assertEquals("concise", all.get("11/base/poet").get("copy_of").getAsString());
        assertEquals(all.get("11/base/concise").get("token_ids"), all.get("11/base/poet").get("token_ids"));
    }

    @Test
    void resumesAfterAnInterruptionThatCutTheLastLine() throws IOException {
        Path reference = dir.resolve("reference.jsonl");
        assertEquals(0, CliRun.run(evalArgs(reference, "--no-progress")).exitCode());
        Map<String, JsonObject> expected = rows(reference);
        List<String> lines = Files.readAllLines(reference, StandardCharsets.UTF_8);

        // the state a kill leaves: five whole rows, then half of the sixth
        Path out = dir.resolve("interrupted.jsonl");
        String cut = String.join("\n", lines.subList(0, 5)) + "\n" + lines.get(5).substring(0, lines.get(5).length() / 2);
        Files.writeString(out, cut, StandardCharsets.UTF_8);
        // the run that was killed had recorded its settings next to the file when it started
        Files.copy(dir.resolve("reference.jsonl.settings.json"), dir.resolve("interrupted.jsonl.settings.json"));

        CliRun r = CliRun.run(evalArgs(out));
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("cut a partial last line"), r::toString);
        assertTrue(r.err().contains("5 of 12 rows already done"), r::toString);
        Map<String, JsonObject> resumed = rows(out);
        assertEquals(expected.keySet(), resumed.keySet(), "no row lost, none twice");
        for (String key : expected.keySet()) {
            assertEquals(expected.get(key).get("token_ids"), resumed.get(key).get("token_ids"), key);
        }
        // the five rows from before the interruption were kept as they were, not redone
        assertEquals(lines.subList(0, 5), Files.readAllLines(out).subList(0, 5));
    }

    @Test
    void resumesAfterTheProcessIsKilled() throws Exception {
        Path big = dir.resolve("many.json");
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 40; i++) {
            sb.append(i > 0 ? "," : "").append("{\"index\": ").append(i).append(", \"question\": \"Q").append(i).append("?\"}");
        }
        Files.writeString(big, sb.append("]").toString());
        Path out = dir.resolve("killed.jsonl");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                AmuletCli.class.getName(), "eval", "--model", model.toString(), "--dataset", big.toString(), "--methods",
                "base,pref", "--preferences", "concise", "--max-new-tokens", "2", "--no-progress", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
        int seen = 0;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (p.isAlive() && System.nanoTime() < deadline && (seen = wholeLines(out).size()) < 3) {
                Thread.sleep(20);
            }
        } finally {
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no clean close; only what each append wrote survives
            p.waitFor(30, TimeUnit.SECONDS);
        }
        String log = Files.readString(dir.resolve("killed.log"));
        assertEquals(128 + 9, p.exitValue(), "the run must end by the kill, not on its own\n" + log);
        List<String> kept = wholeLines(out);
        assertTrue(kept.size() >= 3 && kept.size() >= seen, "rows written before the kill: " + kept.size() + "\n" + log);
        assertTrue(kept.size() < 80, "the kill cut the run short: " + kept.size() + " of 80 rows");

        List<String> resume = new ArrayList<>(cmd.subList(cmd.indexOf(AmuletCli.class.getName()) + 1, cmd.size()));
        CliRun r = CliRun.run(resume.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::toString);
        // every row written before the kill is kept as it was and not run again: at most the row in flight is lost
        assertTrue(r.err().contains(kept.size() + " of 80 rows already done"), r::toString);
        assertTrue(r.err().contains("eval: " + (80 - kept.size()) + " new rows"), r::toString);
        assertEquals(kept, Files.readAllLines(out).subList(0, kept.size()));
        Map<String, JsonObject> all = rows(out);
        assertEquals(80, all.size(), "every (index, method, preference) once");
        Set<Integer> indices = new HashSet<>();
        all.values().forEach(o -> indices.add(o.get("index").getAsInt()));
        assertEquals(40, indices.size());
    }
}
