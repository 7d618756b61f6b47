package io.github.amulet4j.cli.judge;

import io.github.amulet4j.eval.Question;
import io.github.amulet4j.eval.judge.JudgePrompt;
import io.github.amulet4j.eval.judge.Tally;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.cli.AmuletCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code amulet judge} against a loopback fake judge with scripted verdicts. */
class JudgeCommandTest {

    @TempDir
    Path dir;

    /** A run of the command line with captured streams. */
    record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, new StringReader(""), env, o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }

    static Run run(String... args) {
        return run(Map.of(), args);
    }

    private static final Pattern LABEL = Pattern.compile("M=(\\w+) I=(\\d+) P=(\\w+)");

    /** An eval row (the fields eval writes) whose text names its method, index and preference. */
    static JsonObject row(int index, String method, String preference) {
        JsonObject o = new JsonObject();
        o.addProperty("index", index);
        o.addProperty("method", method);
        o.addProperty("preference", preference);
        o.addProperty("preference_text", "Your answer should be " + preference + " as much as possible.");
        o.addProperty("question", "Question number " + index + "?");
        o.addProperty("text", "M=" + method + " I=" + index + " P=" + preference);
        o.add("token_ids", new JsonArray());
        o.addProperty("model", "tiny");
        o.addProperty("new_tokens", 3);
        o.addProperty("finish_reason", "length");
        o.addProperty("seconds", 0.01);
        return o;
    }

    static Path results(Path file, List<JsonObject> rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        rows.forEach(r -> sb.append(r).append('\n'));
        Files.writeString(file, sb.toString());
        return file;
    }

    /** Rows of {@code methods} for indices 1..n under each preference. */
    static List<JsonObject> rows(int n, List<String> methods, String... preferences) {
        List<JsonObject> rows = new ArrayList<>();
        for (String p : preferences) {
            for (int i = 1; i <= n; i++) {
                for (String m : methods) {
                    rows.add(row(i, m, p));
                }
            }
        }
        return rows;
    }

    /** Method, index and preference of an answer text. */
    static String[] label(String answer) {
        Matcher m = LABEL.matcher(answer);
        assertTrue(m.find(), answer);
        return new String[] {m.group(1), m.group(2), m.group(3)};
    }

    List<String> judgeArgs(FakeJudge judge, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("judge", "--judge-url", judge.url(), "--judge-model", "judge-1",
                "--out", out.toString(), "--no-progress"));
        args.addAll(List.of(extra));
        return args;
    }

    static String[] array(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static List<JsonObject> lines(Path file) throws IOException {
        List<JsonObject> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            out.add(JsonParser.parseString(l).getAsJsonObject());
        }
        return out;
    }

    static JsonObject find(JsonArray a, String preference) {
        for (var e : a) {
            JsonObject o = e.getAsJsonObject();
            if (preference == null || o.get("preference").getAsString().equals(preference)) {
                return o;
            }
        }
        throw new AssertionError("no line for " + preference + " in " + a);
    }

    static void assertCounts(JsonObject o, int wins, int ties, int losses, int unparsable, double rate, double low,
                             double high) {
        String s = o.toString();
        assertEquals(wins, o.get("wins").getAsInt(), s);
        assertEquals(ties, o.get("ties").getAsInt(), s);
        assertEquals(losses, o.get("losses").getAsInt(), s);
        assertEquals(unparsable, o.get("unparsable").getAsInt(), s);
        assertEquals(rate, o.get("win_rate").getAsDouble(), 1e-12, s);
        assertEquals(low, o.get("ci_low").getAsDouble(), 1e-9, s);
        assertEquals(high, o.get("ci_high").getAsDouble(), 1e-9, s);
    }

    /**
     * The scripted judge of the counting test: per (preference, index), the verdict when the candidate is shown
     * first and when the baseline is; "G" is garbage (no verdict), "G-A" garbage once then A.
     */
    static final Map<String, String[]> SCRIPT = Map.of(
            "concise 1", new String[] {"A", "B"},    // both orders prefer amulet: win
            "concise 2", new String[] {"A", "A"},    // position bias, the orders disagree: tie
            "concise 3", new String[] {"B", "A"},    // both prefer base: loss
            "concise 4", new String[] {"C", "B"},    // explicit tie in one order: tie
            "concise 5", new String[] {"A", "B"},    // win
            "concise 6", new String[] {"G", "B"},    // garbage twice: unparsable
            "concise 7", new String[] {"G-A", "B"},  // garbage once, then a verdict: win
            "formal 1", new String[] {"A", "B"},
            "formal 2", new String[] {"A", "B"},
            "formal 3", new String[] {"A", "B"});

    static FakeJudge.Response scripted(FakeJudge.Request r) {
        String[] a = label(r.answerA());
        String[] steps = SCRIPT.get(a[2] + " " + a[1]);
        String step = a[0].equals("amulet") ? steps[0] : steps[1];
        return switch (step) {
            case "G" -> FakeJudge.Response.reply("I cannot decide.");
            case "G-A" -> r.isRetry() ? FakeJudge.Response.verdict("A") : FakeJudge.Response.reply("Hmm. [A]");
            default -> FakeJudge.Response.verdict(step);
        };
    }

    @Test
    void countsTiesRatesAndIntervalsEqualHandComputedValues() throws Exception {
        List<JsonObject> rows = new ArrayList<>(rows(7, List.of("base", "amulet"), "concise"));
        rows.addAll(rows(3, List.of("base", "amulet"), "formal"));
        Path results = results(dir.resolve("results.jsonl"), rows);
        Path out = dir.resolve("judgements.jsonl");
        try (FakeJudge judge = new FakeJudge(JudgeCommandTest::scripted)) {
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--json"));
            assertEquals(0, r.exitCode(), r.toString());
            // 10 comparisons x 2 orders + one retry each for concise 6 and concise 7 (candidate first)
            assertEquals(22, judge.requests().size());
            JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
            assertEquals(Set.of("pairs", "overall"), report.keySet());
            JsonObject concise = find(report.getAsJsonArray("pairs"), "concise");
            assertEquals(Set.of("candidate", "baseline", "preference", "wins", "ties", "losses", "unparsable",
                    "win_rate", "ci_low", "ci_high"), concise.keySet());
            assertEquals("amulet", concise.get("candidate").getAsString());
            assertEquals("base", concise.get("baseline").getAsString());
            // concise: 3 wins, 2 ties, 1 loss, 1 unparsable: (3 + 1) / 6; Wilson 95% for p = 2/3, n = 6
            assertCounts(concise, 3, 2, 1, 1, 4.0 / 6, 0.299993315138392, 0.9032285888942195);
            // formal: 3 wins of 3: Wilson 95% lower end for 3/3 is 0.4385
            assertCounts(find(report.getAsJsonArray("pairs"), "formal"), 3, 0, 0, 0, 1.0, 0.43850296824495455, 1.0);
            JsonObject overall = find(report.getAsJsonArray("overall"), null);
            assertEquals(Set.of("candidate", "baseline", "wins", "ties", "losses", "unparsable", "win_rate", "ci_low",
                    "ci_high"), overall.keySet());
            assertCounts(overall, 6, 2, 1, 1, 7.0 / 9, 0.4525889691069889, 0.9367748928821533);
            assertTrue(r.err().contains("2 replies had no verdict at first and were asked again, 1 still had none; "
                    + "1 comparisons unparsable"), r.err());

            // the retry is the same conversation plus the reply and a reminder
            FakeJudge.Request retry = judge.requests().stream().filter(FakeJudge.Request::isRetry).findFirst().orElseThrow();
            assertEquals(List.of("user", "assistant", "user"), retry.roles());
            assertEquals(JudgePrompt.REMINDER, retry.contents().get(2));
            // every request at temperature 0, with the model
            for (FakeJudge.Request q : judge.requests()) {
                assertEquals(0, q.body().get("temperature").getAsDouble());
                assertEquals("judge-1", q.body().get("model").getAsString());
                assertFalse(q.body().has("max_tokens"));
            }

            // the judgements file: settings, then one line per order with raw reply and parsed verdict
            List<JsonObject> lines = lines(out);
            assertEquals(21, lines.size());
            assertEquals("judge_settings", lines.get(0).get("type").getAsString());
            assertEquals("judge-1", lines.get(0).get("judge_model").getAsString());
            String sha = JudgePrompt.defaultTemplate().sha256();
            assertEquals(sha, lines.get(0).get("template_sha256").getAsString());
            JsonObject unparsable = lines.stream().filter(l -> l.has("index") && l.get("index").getAsInt() == 6
                    && l.get("preference").getAsString().equals("concise") && l.get("answer_a").getAsString().equals("amulet"))
                    .findFirst().orElseThrow();
            assertTrue(unparsable.get("verdict").isJsonNull());
            assertTrue(unparsable.get("unparsable").getAsBoolean());
            assertEquals("I cannot decide.", unparsable.get("reply").getAsString());
            assertEquals("I cannot decide.", unparsable.get("first_reply").getAsString());
            assertEquals(sha, unparsable.get("template_sha256").getAsString());
            assertEquals("judge-1", unparsable.get("judge_model").getAsString());
            JsonObject retried = lines.stream().filter(l -> l.has("index") && l.get("index").getAsInt() == 7
                    && l.get("preference").getAsString().equals("concise") && l.get("answer_a").getAsString().equals("amulet"))
                    .findFirst().orElseThrow();
            assertEquals("A", retried.get("verdict").getAsString());
            assertEquals("amulet", retried.get("winner").getAsString());
            assertEquals("Hmm. [A]", retried.get("first_reply").getAsString());

            // the table and the chart from the same run, asking nothing again
            int before = judge.requests().size();
            Run table = run(array(judgeArgs(judge, out), results.toString()));
            assertEquals(0, table.exitCode(), table.toString());
            assertEquals(before, judge.requests().size(), "a finished run asks nothing");
            assertTrue(table.out().contains("66.7%") && table.out().contains("[30.0, 90.3]"), table.out());
            assertTrue(table.out().lines().anyMatch(l -> l.matches("amulet\\s+base\\s+overall\\s+6\\s+2\\s+1\\s+1\\s+77\\.8%.*")),
                    table.out());
            Path chart = dir.resolve("judgements.svg");
            assertTrue(Files.exists(chart));
            var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(chart.toFile());
            assertEquals("svg", doc.getDocumentElement().getTagName());
            String svg = Files.readString(chart);
            assertTrue(svg.contains(">concise<") && svg.contains(">formal<") && svg.contains(">overall<"), svg);
        }
    }

    @Test
    void positionBiasedJudgeGivesOnlyTies() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(4, List.of("base", "pref", "amulet"), "concise"));
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A"))) {
            Run r = run(array(judgeArgs(judge, dir.resolve("j.jsonl")), results.toString(), "--json",
                    "--candidate", "amulet,pref", "--baseline", "base"));
            assertEquals(0, r.exitCode(), r.toString());
            JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
            assertEquals(2, report.getAsJsonArray("overall").size());
            for (var e : report.getAsJsonArray("pairs")) {
                // every comparison: A in one order, A in the other = disagreement = tie; Wilson for p = 1/2, n = 4
                assertCounts(e.getAsJsonObject(), 0, 4, 0, 0, 0.5, 0.15003898915214953, 0.8499610108478505);
            }
            assertEquals(16, judge.requests().size());
        }
    }

    @Test
    void retryAfterIsHonouredOn429And503() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(1, List.of("base", "amulet"), "concise"));
        try (FakeJudge judge = new FakeJudge(r -> switch (r.number()) {
            case 1 -> FakeJudge.Response.status(429, Map.of("Retry-After", "1"), "{\"error\": \"rate limited\"}");
            case 3 -> FakeJudge.Response.status(503, Map.of("retry-after-ms", "300"), "overloaded");
            default -> FakeJudge.Response.verdict("C");
        })) {
            Run r = run(array(judgeArgs(judge, dir.resolve("j.jsonl")), results.toString(), "--judge-concurrency", "1"));
            assertEquals(0, r.exitCode(), r.toString());
            List<FakeJudge.Request> q = judge.requests();
            assertEquals(4, q.size());
            long afterRateLimit = (q.get(1).arrivedNanos() - q.get(0).arrivedNanos()) / 1_000_000;
            assertTrue(afterRateLimit >= 950, "waited " + afterRateLimit + " ms after Retry-After: 1");
            long afterOverload = (q.get(3).arrivedNanos() - q.get(2).arrivedNanos()) / 1_000_000;
            assertTrue(afterOverload >= 280 && afterOverload < 900, "waited " + afterOverload + " ms after retry-after-ms: 300");
            assertEquals(q.get(0).prompt(), q.get(1).prompt(), "the same prompt is asked again");
            List<JsonObject> lines = lines(dir.resolve("j.jsonl"));
            assertEquals(2, lines.get(1).get("attempts").getAsInt());
        }
    }

    @Test
    void slowJudgePastTheTimeoutIsRetriedThenTheRunFailsAndResumes() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(2, List.of("base", "amulet"), "concise"));
        Path out = dir.resolve("j.jsonl");
        try (FakeJudge judge = new FakeJudge(r -> r.number() == 1
                ? FakeJudge.Response.verdict("A").delayed(3000) : FakeJudge.Response.verdict("A"))) {
            long start = System.nanoTime();
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--judge-concurrency", "1", "--judge-timeout", "0.3"));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue((System.nanoTime() - start) / 1e9 < 2.9, "the slow reply was not waited for");
            assertEquals(5, judge.requests().size(), "4 prompts, the first asked twice");
            assertEquals(judge.requests().get(0).prompt(), judge.requests().get(1).prompt());
        }
        Path out2 = dir.resolve("j2.jsonl");
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A").delayed(2000))) {
            Run r = run(array(judgeArgs(judge, out2), results.toString(), "--judge-concurrency", "4", "--judge-timeout",
                    "0.2", "--judge-retries", "1"));
            assertEquals(1, r.exitCode(), r.toString());
            assertTrue(r.err().contains("no reply within 0.2 s"), r.err());
            assertTrue(r.err().contains("run the same command"), r.err());
            assertEquals(1, lines(out2).size(), "no judgement is written for a failed request");
        }
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A"))) {
            Run r = run(array(judgeArgs(judge, out2), results.toString()));
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals(4, judge.requests().size());
        }
    }

    @Test
    void aResumeNeverAsksTheSameJudgementTwice() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(5, List.of("base", "la", "amulet"), "concise", "formal"));
        Path out = dir.resolve("j.jsonl");
        List<String> asked = new ArrayList<>();
        // the first run is stopped by a 401 after 7 answered prompts
        try (FakeJudge judge = new FakeJudge(r -> r.number() <= 7 ? FakeJudge.Response.verdict("B")
                : FakeJudge.Response.status(401, Map.of(), "{\"error\": \"invalid key\"}"))) {
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--candidate", "amulet", "--baseline", "base,la",
                    "--judge-concurrency", "1"));
            assertEquals(1, r.exitCode(), r.toString());
            assertTrue(r.err().contains("HTTP 401"), r.err());
            judge.requests().stream().filter(q -> q.number() <= 7).forEach(q -> asked.add(q.prompt()));
        }
        assertEquals(8, lines(out).size());
        // a write cut by a kill: the partial last line is cut off
        Files.writeString(out, "{\"type\": \"judgement\", \"index\": 3, \"pre", java.nio.file.StandardOpenOption.APPEND);
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("B"))) {
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--candidate", "amulet", "--baseline", "base,la",
                    "--judge-concurrency", "3"));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.err().contains("cut a partial last line"), r.err());
            assertEquals(40 - 7, judge.requests().size());
            judge.requests().forEach(q -> asked.add(q.prompt()));
        }
        assertEquals(40, new HashSet<>(asked).size(), "every prompt asked exactly once over both runs");
        assertEquals(40, asked.size());
        assertEquals(41, lines(out).size());
        // swapping candidate and baseline asks nothing new: the same prompts in both orders
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("B"))) {
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--candidate", "base", "--baseline", "amulet",
                    "--json"));
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals(0, judge.requests().size());
            JsonObject overall = find(JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("overall"), null);
            assertCounts(overall, 0, 10, 0, 0, 0.5, Tally.wilson(0.5, 10, Tally.Z95)[0], Tally.wilson(0.5, 10, Tally.Z95)[1]);
        }
    }

    @Test
    void changedJudgeSettingsAreRefusedNamingThem() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(2, List.of("base", "amulet"), "concise"));
        Path out = dir.resolve("j.jsonl");
        Path template = dir.resolve("template.txt");
        Files.writeString(template, "Q: {question}\nP: {preference}\nA: {answer_a}\nB: {answer_b}\nVerdict as [[A]], [[B]] or [[C]].");
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A"))) {
            assertEquals(0, run(array(judgeArgs(judge, out), results.toString())).exitCode());
            int asked = judge.requests().size();
            Run model = run(array(List.of("judge", "--judge-url", judge.url(), "--judge-model", "judge-2", "--out",
                    out.toString()), results.toString()));
            assertEquals(2, model.exitCode(), model.toString());
            assertTrue(model.err().contains("judge_model (--judge-model) (file: judge-1, now: judge-2)"), model.err());
            Run tpl = run(array(judgeArgs(judge, out), results.toString(), "--judge-template", template.toString(),
                    "--judge-max-tokens", "50"));
            assertEquals(2, tpl.exitCode(), tpl.toString());
            assertTrue(tpl.err().contains("template_sha256 (--judge-template)"), tpl.err());
            assertTrue(tpl.err().contains("max_tokens (--judge-max-tokens) (file: null, now: 50)"), tpl.err());
            assertEquals(asked, judge.requests().size(), "a refused run asks nothing");
            // the custom template is what the judge sees, in a new file
            Run custom = run(array(judgeArgs(judge, dir.resolve("j2.jsonl")), results.toString(), "--judge-template",
                    template.toString()));
            assertEquals(0, custom.exitCode(), custom.toString());
            assertTrue(judge.requests().get(judge.requests().size() - 1).prompt().startsWith("Q: Question number "));
        }
    }

    @Test
    void theDefaultKeyVariableIsSentOnlyToOpenAi() throws Exception {
        String key = "sk-openai-only-0a1b2c";
        Path results = results(dir.resolve("r-default.jsonl"), rows(1, List.of("base", "amulet"), "concise"));
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A"))) {
            Run r = run(Map.of("OPENAI_API_KEY", key), array(judgeArgs(judge, dir.resolve("j-default.jsonl")),
                    results.toString()));
            assertEquals(0, r.exitCode(), r.toString());
            assertFalse(judge.requests().isEmpty());
            for (FakeJudge.Request q : judge.requests()) {
                assertEquals(null, q.authorization(), "OPENAI_API_KEY is not sent to another server");
            }
            assertTrue(r.err().contains("only to https://api.openai.com"), r.err());
        }
    }

    @Test
    void theKeyNeverAppearsInAnyOutput() throws Exception {
        String key = "sk-test-7c1e0d9b2a54SECRET";
        Map<String, String> env = Map.of("JUDGE_KEY", key);
        Path results = results(dir.resolve("r.jsonl"), rows(2, List.of("base", "amulet"), "concise"));
        Path out = dir.resolve("j.jsonl");
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream process = new ByteArrayOutputStream();
        List<String> outputs = new ArrayList<>();
        try (FakeJudge judge = new FakeJudge(r -> r.number() == 2
                ? FakeJudge.Response.status(503, Map.of("retry-after-ms", "10"), "overloaded for key " + key)
                : FakeJudge.Response.verdict("A"))) {
            System.setOut(new PrintStream(process, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(process, true, StandardCharsets.UTF_8));
            try {
                Run ok = run(env, array(judgeArgs(judge, out), results.toString(), "--judge-key-env", "JUDGE_KEY",
                        "--verbose"));
                assertEquals(0, ok.exitCode(), ok.toString());
                outputs.add(ok.out());
                outputs.add(ok.err());
                for (FakeJudge.Request q : judge.requests()) {
                    assertEquals("Bearer " + key, q.authorization(), "the key is sent");
                }
                // a server that echoes the key in its error body
                judge.script(r -> FakeJudge.Response.status(401, Map.of(), "{\"error\": \"Incorrect API key provided: "
                        + key + "\"}"));
                Run bad = run(env, array(judgeArgs(judge, dir.resolve("j2.jsonl")), results.toString(),
                        "--judge-key-env", "JUDGE_KEY", "--verbose"));
                assertEquals(1, bad.exitCode(), bad.toString());
                assertTrue(bad.err().contains("Incorrect API key provided: [key]"), bad.err());
                outputs.add(bad.out());
                outputs.add(bad.err());
            } finally {
                System.setOut(stdout);
                System.setErr(stderr);
            }
        }
        outputs.add(process.toString(StandardCharsets.UTF_8));
        outputs.add(Files.readString(out));
        outputs.add(Files.readString(dir.resolve("j.svg")));
        outputs.add(Files.readString(dir.resolve("j2.jsonl")));
        for (String o : outputs) {
            assertFalse(o.contains(key) || o.contains("SECRET"), "the key leaked into: " + o);
        }
    }

    @Test
    void promptsTheJudgeRefusesDoNotStopTheRun() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(6, List.of("base", "amulet"), "concise"));
        Path out = dir.resolve("j.jsonl");
        // questions 1 to 4 are "over the judge's context": HTTP 400 every time
        try (FakeJudge judge = new FakeJudge(r -> Integer.parseInt(label(r.answerA())[1]) <= 4
                ? FakeJudge.Response.status(400, Map.of(), "{\"error\": {\"code\": \"context_length_exceeded\"}}")
                : FakeJudge.Response.verdict("C"))) {
            Run r = run(array(judgeArgs(judge, out), results.toString(), "--judge-concurrency", "1", "--json"));
            assertEquals(1, r.exitCode(), r.toString());
            assertEquals(12, judge.requests().size(), "every prompt asked once, none retried");
            assertTrue(r.err().contains("8 judge requests failed: HTTP 400"), r.err());
            assertFalse(r.err().contains("the run stopped"), r.err());
            assertEquals(5, lines(out).size());
            assertCounts(find(JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("overall"), null),
                    0, 2, 0, 0, 0.5, 0.09453120573423074, 0.9054687942657693);
        }
    }

    @Test
    void concurrencyIsBounded() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(6, List.of("base", "amulet"), "concise"));
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A").delayed(150))) {
            Run r = run(array(judgeArgs(judge, dir.resolve("j.jsonl")), results.toString(), "--judge-concurrency", "3"));
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals(12, judge.requests().size());
            assertEquals(3, judge.maxInFlight());
        }
    }

    @Test
    void helpListsTheOptionsWithoutWarnings() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream picocli = new ByteArrayOutputStream();
        Run help;
        System.setErr(new PrintStream(picocli, true, StandardCharsets.UTF_8));
        try {
            help = run("judge", "--help");
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, help.exitCode(), help.toString());
        assertEquals("", help.err());
        assertEquals("", picocli.toString(StandardCharsets.UTF_8), "picocli's warnings");
        assertTrue(help.out().contains("95% intervals") && help.out().contains("--judge-key-env=VAR"), help.out());
    }

    @Test
    void badArgumentsAreNamed() throws Exception {
        Path results = results(dir.resolve("r.jsonl"), rows(1, List.of("base", "amulet"), "concise"));
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.verdict("A"))) {
            Path out = dir.resolve("j.jsonl");
            assertTrue(run(array(judgeArgs(judge, out), results.toString(), "--candidate", "beam")).err()
                    .contains("--candidate: method 'beam' has no answers in the results files (methods there: base, amulet)"));
            assertTrue(run(array(judgeArgs(judge, out), results.toString(), "--preferences", "formal")).err()
                    .contains("--preferences: 'formal'"));
            assertTrue(run(array(judgeArgs(judge, out), dir.resolve("missing.jsonl").toString())).err()
                    .contains("missing.jsonl does not exist"));
            Path template = dir.resolve("t.txt");
            Files.writeString(template, "{question} {answer_a} {answer_b}");
            Run t = run(array(judgeArgs(judge, out), results.toString(), "--judge-template", template.toString()));
            assertEquals(2, t.exitCode());
            assertTrue(t.err().contains("--judge-template: " + template + ": the judge template lacks {preference}"), t.err());
            Run url = run("judge", "--judge-url", judge.url() + "/chat/completions", "--judge-model", "m",
                    results.toString());
            assertEquals(2, url.exitCode());
            assertTrue(url.err().contains("--judge-url: judge URL must be the base URL"), url.err());
            Run conc = run(array(judgeArgs(judge, out), results.toString(), "--judge-concurrency", "0"));
            assertTrue(conc.err().contains("--judge-concurrency: must be in [1, 256], got 0"), conc.err());
            Files.writeString(dir.resolve("notjudge.jsonl"), "{\"index\": 1}\n");
            Run notJudge = run(array(judgeArgs(judge, dir.resolve("notjudge.jsonl")), results.toString()));
            assertEquals(2, notJudge.exitCode());
            assertTrue(notJudge.err().contains("expected the judge settings line first"), notJudge.err());
            assertEquals(0, judge.requests().size());
        }
    }
}
