package io.github.amulet4j.cli;

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
            assertTrue(g.get("batch").getAsInt() == 5 || g.get("batch").getAsInt() == 2, g.toString());
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
