package io.github.amulet4j.cli.judge;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.prompt.PreferencePresets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code eval} on a tiny random model over the paper's eight preference presets, then {@code judge} over its results
 * file with a fake judge that prefers the longer answer (the same in both orders): the counts equal those computed
 * directly from the results file.
 */
class JudgeEvalEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void judgesAnEvalRunOverThePapersPresets() throws Exception {
        Path model = dir.resolve("tiny");
        assertEquals(0, JudgeCommandTest.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
        Path dataset = dir.resolve("questions.json");
        Files.writeString(dataset, "[{\"index\": 1, \"question\": \"What is the ozone layer?\"}, "
                + "{\"index\": 2, \"question\": \"How do vaccines work?\"}]");
        String presets = String.join(",", PreferencePresets.all().keySet());
        Path results = dir.resolve("results.jsonl");
        JudgeCommandTest.Run eval = JudgeCommandTest.run("eval", "--model", model.toString(), "--dataset",
                dataset.toString(), "--methods", "base,amulet", "--preferences", presets, "--max-new-tokens", "6",
                "--no-progress", "--out", results.toString());
        assertEquals(0, eval.exitCode(), eval.toString());

        // what the judge will say, computed from the results file: the longer answer wins, equal lengths tie
        Map<String, String> texts = new LinkedHashMap<>();
        for (String line : Files.readAllLines(results)) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.has("index") && o.has("method")) {
                texts.put(o.get("method").getAsString() + "/" + o.get("index").getAsInt() + "/"
                        + o.get("preference").getAsString(), o.get("text").getAsString());
            }
        }
        Map<String, int[]> expected = new LinkedHashMap<>();
        for (String p : PreferencePresets.all().keySet()) {
            int[] wtl = new int[3];
            for (int i = 1; i <= 2; i++) {
                int c = Integer.compare(texts.get("amulet/" + i + "/" + p).length(), texts.get("base/" + i + "/" + p).length());
                wtl[c > 0 ? 0 : c == 0 ? 1 : 2]++;
            }
            expected.put(p, wtl);
        }

        try (FakeJudge judge = new FakeJudge(r -> {
            int c = Integer.compare(r.answerA().length(), r.answerB().length());
            return FakeJudge.Response.verdict(c > 0 ? "A" : c < 0 ? "B" : "C");
        })) {
            Path out = dir.resolve("judgements.jsonl");
            JudgeCommandTest.Run run = JudgeCommandTest.run("judge", results.toString(), "--judge-url", judge.url(),
                    "--judge-model", "judge-1", "--out", out.toString(), "--json", "--no-progress");
            assertEquals(0, run.exitCode(), run.toString());
            assertEquals(32, judge.requests().size(), "2 questions x 8 presets x 2 orders");
            for (FakeJudge.Request q : judge.requests()) {
                assertTrue(q.prompt().contains("[User preference]\nYour answer should be "), q.prompt());
            }
            JsonObject report = JsonParser.parseString(run.out()).getAsJsonObject();
            JsonArray pairs = report.getAsJsonArray("pairs");
            assertEquals(8, pairs.size());
            int[] sum = new int[3];
            for (int k = 0; k < 8; k++) {
                JsonObject line = pairs.get(k).getAsJsonObject();
                String p = List.copyOf(PreferencePresets.all().keySet()).get(k);
                assertEquals(p, line.get("preference").getAsString(), "presets in the paper's order");
                int[] wtl = expected.get(p);
                assertEquals(wtl[0], line.get("wins").getAsInt(), p);
                assertEquals(wtl[1], line.get("ties").getAsInt(), p);
                assertEquals(wtl[2], line.get("losses").getAsInt(), p);
                assertEquals((wtl[0] + 0.5 * wtl[1]) / 2, line.get("win_rate").getAsDouble(), 1e-12, p);
                for (int i = 0; i < 3; i++) {
                    sum[i] += wtl[i];
                }
            }
            JsonObject overall = report.getAsJsonArray("overall").get(0).getAsJsonObject();
            assertEquals(sum[0], overall.get("wins").getAsInt());
            assertEquals(sum[1], overall.get("ties").getAsInt());
            assertEquals(sum[2], overall.get("losses").getAsInt());
            assertEquals(0, overall.get("unparsable").getAsInt());
            assertTrue(Files.readString(dir.resolve("judgements.svg")).contains(">uplifting<"));
        }
    }
}
