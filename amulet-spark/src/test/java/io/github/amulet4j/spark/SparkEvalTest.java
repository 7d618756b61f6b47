package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.cli.AmuletCli;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet eval --spark local[2]} against {@code amulet eval} on a tiny random model: the same rows (token ids
 * and every field but the timings), each key exactly once after a rerun, a lost part file and a task that fails on
 * its first attempt.
 */
class SparkEvalTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path dataset;
    static Path jsonLines;
    static Path prefs;
    /** eval's rows for {@link #args}, by key. */
    static Map<String, JsonObject> expected;
    /** eval's summary table. */
    static String expectedSummary;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny");
        Run r = run("random-model", "--shape", "tiny-qwen2", "--out", model.toString());
        assertEquals(0, r.code(), r.toString());
        dataset = dir.resolve("questions.json");
        jsonLines = dir.resolve("questions.jsonl");
        StringBuilder array = new StringBuilder("[");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            String q = "{\"index\": " + (7 + 3 * i) + ", \"question\": \"Question " + "abcd".charAt(i) + " number " + i + "?\"}";
            array.append(i > 0 ? "," : "").append(q);
            lines.append(q).append('\n');
        }
        Files.writeString(dataset, array.append("]").toString());
        Files.writeString(jsonLines, lines.toString());
        prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "{\"brief\": \"Answer in five words.\"}");
        Path evalOut = dir.resolve("eval.jsonl");
        r = run(args(dataset, evalOut, "--batch", "3"));
        assertEquals(0, r.code(), r.toString());
        expected = byKey(Files.readAllLines(evalOut));
        expectedSummary = r.out();
        assertEquals(4 * 2 * 3, expected.size());
    }

    static String[] args(Path questions, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "--model", model.toString(), "--dataset", questions.toString(),
                "--methods", "base,pref,amulet", "--preferences", "concise", "--preference-file", prefs.toString(),
                "--max-new-tokens", "3", "--iterations", "3", "--out", out.toString(), "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void sparkRowsAreEvalRowsAndRerunsAddNothingAndRestoreALostPartFile() throws IOException {
        Path out = dir.resolve("spark-out");
        Run r = run(args(dataset, out, "--batch", "3", "--spark", "local[2]", "--partitions", "3"));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("eval: 24 new rows, 24 rows in"), r.err());
        assertEquals(methodColumn(expectedSummary), methodColumn(r.out()), r.out()); // the summary table, in eval's order
        List<Path> parts = parts(out);
        assertEquals(3, parts.size(), parts.toString());
        assertRowsAreEvals(out);

        // a rerun into the same output writes nothing
        r = run(args(dataset, out, "--batch", "3", "--spark", "local[2]", "--partitions", "3"));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("eval: 0 new rows, 24 rows in"), r.err());
        assertEquals(parts, parts(out));

        // other settings are refused, as eval refuses them
        List<String> other = new ArrayList<>(List.of(args(dataset, out, "--spark", "local[2]")));
        other.set(other.indexOf("--max-new-tokens") + 1, "4");
        r = run(other.toArray(String[]::new));
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("other settings (max_new_tokens: 3 -> 4)"), r.err());

        // a part file lost (as if its task had never been committed): the rerun generates exactly its rows again
        Files.delete(parts.get(1));
        r = run(args(dataset, out, "--batch", "3", "--spark", "local[2]"));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("rows already done"), r.err());
        assertRowsAreEvals(out);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndARunThatFailsKeepsItsCommittedRowsForTheRerun() throws IOException {
        Path out = dir.resolve("spark-fault");
        int faults = GeneratePartition.INJECTED_FAULTS.get();
        // JSON lines in, batches of 2, 3 tasks committed one by one: task 1 fails after its first batch (rows of that
        // attempt already written) and is retried; every attempt of task 2 fails, so the run fails
        Run r = run(args(jsonLines, out, "--batch", "2", "--spark", "local[2]", "--partitions", "3",
                "--spark-conf", SparkEvalRunner.TASKS_PER_COMMIT_CONF + "=1",
                "--spark-conf", SparkEvalRunner.FAULT_CONF + "=1",
                "--spark-conf", SparkEvalRunner.FAULT_EVERY_CONF + "=2"));
        assertEquals(1, r.code(), r.toString());
        assertEquals(faults + 1 + SparkEvalRunner.LOCAL_ATTEMPTS, GeneratePartition.INJECTED_FAULTS.get());
        Map<String, JsonObject> kept = rowsOnce(out);
        assertTrue(kept.size() >= 12 && kept.size() < 24, kept.keySet().toString()); // tasks 0 and 1: 2/3 of the rows
        for (Map.Entry<String, JsonObject> e : kept.entrySet()) {
            assertEquals(comparable(expected.get(e.getKey())), comparable(e.getValue()), e.getKey());
        }
        // the rerun generates the rest only
        r = run(args(jsonLines, out, "--batch", "2", "--spark", "local[2]", "--partitions", "3"));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("eval: " + (24 - kept.size()) + " new rows, 24 rows in"), r.err());
        assertRowsAreEvals(out);
    }

    @Test
    void parquetQuestionsInParquetRowsOutInASessionAlreadyRunning() throws IOException {
        // an application's own session: the command line runs in it (and leaves it running)
        SparkSession spark = SparkSession.builder().master("local[2,4]").config("spark.ui.enabled", "false")
                .getOrCreate();
        try {
            String questions = dir.resolve("questions.parquet").toString();
            spark.read().json(jsonLines.toString()).selectExpr("CAST(index AS INT) AS index", "question")
                    .write().parquet(questions);
            Path out = dir.resolve("rows.parquet");
            Run r = run(args(Path.of(questions), out, "--batch", "4", "--spark", "local[2]"));
            assertEquals(0, r.code(), r.toString());
            Map<String, JsonObject> got = byKey(spark.read().parquet(out.toString()).toJSON().collectAsList());
            assertEquals(expected.keySet(), got.keySet());
            for (Map.Entry<String, JsonObject> e : expected.entrySet()) {
                assertEquals(comparable(e.getValue()), comparable(got.get(e.getKey())), e.getKey());
            }
            r = run(args(Path.of(questions), out, "--batch", "4", "--spark", "local[2]"));
            assertTrue(r.err().contains("eval: 0 new rows, 24 rows in"), r.toString());
            assertFalse(spark.sparkContext().isStopped());

            // bad input: a usage error naming the file and what was expected
            Path badLines = dir.resolve("bad.jsonl");
            Files.writeString(badLines, "{\"index\": 1, \"question\": \"a?\"}\n{\"index\": \"two\", \"question\": \"b?\"}\n");
            r = run(args(badLines, dir.resolve("never"), "--spark", "local[2]"));
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains(badLines + ", line 2: \"index\" must be an integer"), r.err());
            String noQuestion = dir.resolve("no-question.parquet").toString();
            spark.read().parquet(questions).select("index").write().parquet(noQuestion);
            r = run(args(Path.of(noQuestion), dir.resolve("never"), "--spark", "local[2]"));
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains(noQuestion + " has no column \"question\""), r.err());
            r = run(args(dataset, prefs, "--spark", "local[2]"));
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains("--out: " + prefs + " is a file"), r.err());
        } finally {
            spark.stop();
        }
    }

    @Test
    void localMastersGetRetries() {
        assertEquals("local[2,4]", SparkEvalRunner.localWithRetries("local[2]"));
        assertEquals("local[*,4]", SparkEvalRunner.localWithRetries("local[*]"));
        assertEquals("local[1,4]", SparkEvalRunner.localWithRetries("local"));
        assertEquals("local[2,3]", SparkEvalRunner.localWithRetries("local[2,3]"));
        assertEquals("spark://h:7077", SparkEvalRunner.localWithRetries("spark://h:7077"));
    }

    /** Every row of the output once, equal to eval's but for the timings and the batch size. */
    private static void assertRowsAreEvals(Path out) throws IOException {
        Map<String, JsonObject> got = rowsOnce(out);
        assertEquals(expected.keySet(), got.keySet());
        for (Map.Entry<String, JsonObject> e : expected.entrySet()) {
            assertEquals(comparable(e.getValue()), comparable(got.get(e.getKey())), e.getKey());
        }
    }

    /** The rows of the output by key, checking that no key is written twice. */
    private static Map<String, JsonObject> rowsOnce(Path out) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Path p : parts(out)) {
            lines.addAll(Files.readAllLines(p));
        }
        Map<String, JsonObject> got = byKey(lines);
        assertEquals(lines.size(), got.size(), "a key is written twice");
        return got;
    }

    private static List<String> methodColumn(String table) {
        return table.lines().map(l -> l.split("\\s+")[0]).toList();
    }

    private static JsonObject comparable(JsonObject row) {
        JsonObject o = row.deepCopy();
        o.remove("seconds");
        o.remove("tokens_per_second");
        o.remove("batch");
        return o;
    }

    private static List<Path> parts(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    private static Map<String, JsonObject> byKey(List<String> lines) {
        Map<String, JsonObject> out = new HashMap<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            String key = o.get("index").getAsInt() + "/" + o.get("method").getAsString() + "/" + o.get("preference").getAsString();
            if (out.putIfAbsent(key, o) != null) {
                out.put(key + "#dup" + out.size(), o);
            }
        }
        assertFalse(out.isEmpty());
        return out;
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, new StringReader(""), o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }
}
