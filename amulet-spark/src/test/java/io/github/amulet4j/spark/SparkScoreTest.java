package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.djl.RewardModelFolders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet eval --spark local[2] --score} against {@code amulet eval --score} on a tiny model and a tiny reward
 * model: every row scored once on the executors (one reward model per executor JVM) with the reward the local run
 * gives it, the same paper's table, and a rerun that scores nothing again.
 */
class SparkScoreTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path rm;
    static Path dataset;
    static Path prefs;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny");
        SparkEvalTest.Run r = SparkEvalTest.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString());
        assertEquals(0, r.code(), r.toString());
        rm = dir.resolve("rm");
        RewardModelFolders.write(rm, RandomModelFolder.Shape.TINY_QWEN2, "Qwen2ForSequenceClassification", 1, null);
        dataset = dir.resolve("questions.json");
        Files.writeString(dataset, "[{\"index\": 3, \"question\": \"Why?\"}, {\"index\": 4, \"question\": \"How?\"},"
                + " {\"index\": 5, \"question\": \"What?\"}]");
        prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "{\"brief\": \"Be brief.\", \"formal\": \"Be formal.\"}");
    }

    private static String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "--model", model.toString(), "--dataset", dataset.toString(),
                "--methods", "base,pref,amulet", "--preference-file", prefs.toString(), "--max-new-tokens", "4",
                "--out", out.toString(), "--no-progress", "--score", rm.toString(), "--score-batch", "4"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static Map<String, Double> rewards(List<String> lines) {
        Map<String, Double> out = new HashMap<>();
        for (String l : lines) {
            if (l.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(l).getAsJsonObject();
            String key = o.get("index").getAsInt() + "/" + o.get("method").getAsString() + "/"
                    + o.get("preference").getAsString();
            assertTrue(out.put(key, o.get("reward").getAsDouble()) == null, "duplicate " + key);
        }
        return out;
    }

    private static List<String> partLines(Path directory) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> s = Files.list(directory)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                lines.addAll(Files.readAllLines(p));
            }
        }
        return lines;
    }

    @Test
    void sparkScoresEveryRowOnceAsTheLocalRunDoes() throws IOException {
        SparkEvalTest.Run local = SparkEvalTest.run(args(dir.resolve("local.jsonl")));
        assertEquals(0, local.code(), local.toString());
        Map<String, Double> want = rewards(Files.readAllLines(dir.resolve("local.scores.jsonl")));
        assertEquals(3 * 3 * 2, want.size());

        Path out = dir.resolve("spark-out");
        int loads = ExecutorModels.loads();
        SparkEvalTest.Run r = SparkEvalTest.run(args(out, "--spark", "local[2]", "--partitions", "2"));
        assertEquals(0, r.code(), r.toString());
        assertEquals(2, ExecutorModels.loads() - loads, "one model and one reward model in the (local) executor");
        assertTrue(r.err().contains("score: 18 rows to score"), r.err());
        Path scores = dir.resolve("spark-out.scores");
        Map<String, Double> got = rewards(partLines(scores));
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, Double> e : want.entrySet()) {
            assertEquals(e.getValue(), got.get(e.getKey()), 1e-5 + 1e-5 * Math.abs(e.getValue()), e.getKey());
        }
        // the same paper's table (the rewards agree to float rounding; the table shows 4 decimals)
        String table = r.out().substring(r.out().indexOf("\npreference"));
        assertEquals(local.out().substring(local.out().indexOf("\npreference")), table);
        assertTrue(Files.readString(dir.resolve("spark-out.scores.svg")).contains("amulet vs base"));

        // a rerun generates and scores nothing
        SparkEvalTest.Run again = SparkEvalTest.run(args(out, "--spark", "local[2]"));
        assertEquals(0, again.code(), again.toString());
        assertTrue(again.err().contains("score: 0 new rows") && again.err().contains("(18 already there)"),
                again.err());
        assertEquals(18, rewards(partLines(scores)).size());
    }
}
