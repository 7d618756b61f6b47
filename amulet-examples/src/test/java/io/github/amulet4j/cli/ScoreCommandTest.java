package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.djl.RewardModelFolders;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.prompt.ChatMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet score} on eval rows with a tiny reward model: every row scored once with the reward the library
 * gives the paper's conversation (question, space, preference text; answer), resumed without rescoring, and a
 * report whose means and win rates are recomputed here from the scores file.
 */
class ScoreCommandTest {

    @TempDir
    static Path dir;

    private static Path model;
    private static Path results;
    private static final String[] METHODS = {"base", "pref", "amulet"};
    private static final String[] PREFERENCES = {"concise", "formal"};

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("rm");
        RewardModelFolders.write(model, RandomModelFolder.Shape.TINY_QWEN2, "Qwen2ForSequenceClassification", 1, null);
        results = dir.resolve("results.jsonl");
        StringBuilder s = new StringBuilder();
        String[] answers = {"Rain is water.", "Water falls from clouds as rain.", "Precipitation.", "It rains."};
        for (int q = 0; q < 4; q++) {
            for (String p : PREFERENCES) {
                for (int m = 0; m < METHODS.length; m++) {
                    JsonObject o = new JsonObject();
                    o.addProperty("index", q);
                    o.addProperty("method", METHODS[m]);
                    o.addProperty("preference", p);
                    o.addProperty("preference_text", "Be " + p + ".");
                    o.addProperty("question", "Question " + q + "?");
                    o.addProperty("text", answers[(q + m) % answers.length] + " " + METHODS[m]);
                    o.addProperty("model", "tiny");
                    s.append(o).append('\n');
                }
            }
        }
        Files.writeString(results, s.toString(), StandardCharsets.UTF_8);
    }

    private static List<JsonObject> lines(Path f) throws IOException {
        List<JsonObject> out = new ArrayList<>();
        for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            if (!l.isBlank()) {
                out.add(JsonParser.parseString(l).getAsJsonObject());
            }
        }
        return out;
    }

    @Test
    void scoresEveryRowOnceWithTheLibrarysRewardAndReportsMeansAndWinRates() throws IOException {
        Path out = dir.resolve("scores.jsonl");
        CliRun r = CliRun.run("score", results.toString(), "--reward-model", model.toString(), "--out", out.toString(),
                "--batch", "5", "--json");
        assertEquals(0, r.exitCode(), r.toString());
        List<JsonObject> rows = lines(out);
        assertEquals(4 * METHODS.length * PREFERENCES.length, rows.size());
        Map<String, Double> byKey = new HashMap<>();
        try (RewardModel rm = RewardModel.load(model)) {
            for (JsonObject o : rows) {
                String user = o.get("question").getAsString() + " " + o.get("preference_text").getAsString();
                Conversation c = Conversation.of(null, List.of(ChatMessage.user(user),
                        ChatMessage.assistant(o.get("text").getAsString())));
                float want = rm.score(c).score();
                assertEquals(want, o.get("reward").getAsFloat(), 1e-4f + 1e-4f * Math.abs(want), o.toString());
                assertEquals(user, o.getAsJsonArray("reward_messages").get(0).getAsJsonObject().get("content").getAsString());
                assertEquals("tiny", o.get("model").getAsString(), "the input row's fields are kept");
                byKey.put(o.get("preference").getAsString() + "/" + o.get("method").getAsString() + "/"
                        + o.get("index").getAsInt(), o.get("reward").getAsDouble());
            }
        }
        JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
        for (var e : report.getAsJsonArray("means")) {
            JsonObject m = e.getAsJsonObject();
            double sum = 0;
            for (int q = 0; q < 4; q++) {
                sum += byKey.get(m.get("preference").getAsString() + "/" + m.get("method").getAsString() + "/" + q);
            }
            assertEquals(sum / 4, m.get("mean").getAsDouble(), 1e-9, m.toString());
            assertEquals(4, m.get("n").getAsInt());
        }
        assertEquals(PREFERENCES.length * METHODS.length, report.getAsJsonArray("means").size());
        assertEquals(PREFERENCES.length * (METHODS.length - 1), report.getAsJsonArray("win_rates").size());
        Map<String, int[]> overall = new HashMap<>();
        for (var e : report.getAsJsonArray("win_rates")) {
            JsonObject w = e.getAsJsonObject();
            String p = w.get("preference").getAsString();
            int[] wtl = new int[3];
            for (int q = 0; q < 4; q++) {
                double c = byKey.get(p + "/" + w.get("candidate").getAsString() + "/" + q);
                double b = byKey.get(p + "/" + w.get("baseline").getAsString() + "/" + q);
                wtl[c > b ? 0 : c == b ? 1 : 2]++;
            }
            assertEquals("amulet", w.get("candidate").getAsString());
            assertEquals(wtl[0], w.get("wins").getAsInt(), w.toString());
            assertEquals(wtl[1], w.get("ties").getAsInt(), w.toString());
            assertEquals(wtl[2], w.get("losses").getAsInt(), w.toString());
            assertEquals((wtl[0] + 0.5 * wtl[1]) / 4, w.get("rate").getAsDouble(), 1e-12, w.toString());
            assertTrue(w.get("low").getAsDouble() <= w.get("rate").getAsDouble()
                    && w.get("rate").getAsDouble() <= w.get("high").getAsDouble(), w.toString());
            int[] sum = overall.computeIfAbsent(w.get("baseline").getAsString(), k -> new int[3]);
            for (int k = 0; k < 3; k++) {
                sum[k] += wtl[k];
            }
        }
        assertEquals(METHODS.length - 1, report.getAsJsonArray("overall").size());
        for (var e : report.getAsJsonArray("overall")) {
            JsonObject w = e.getAsJsonObject();
            int[] sum = overall.get(w.get("baseline").getAsString());
            assertEquals(sum[0], w.get("wins").getAsInt(), w.toString());
            assertEquals(sum[1], w.get("ties").getAsInt(), w.toString());
            assertEquals(sum[2], w.get("losses").getAsInt(), w.toString());
            assertEquals(4 * PREFERENCES.length, w.get("n").getAsInt());
            // Wilson's interval, computed here
            double n = w.get("n").getAsDouble();
            double p = (sum[0] + 0.5 * sum[1]) / n;
            double z = 1.959963984540054;
            double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
            double half = z / (1 + z * z / n) * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n));
            assertEquals(Math.max(0, centre - half), w.get("low").getAsDouble(), 1e-12, w.toString());
            assertEquals(Math.min(1, centre + half), w.get("high").getAsDouble(), 1e-12, w.toString());
        }
        String svg = Files.readString(dir.resolve("scores.svg"));
        assertTrue(svg.startsWith("<svg") && svg.contains("amulet vs base") && svg.contains("amulet vs pref")
                && svg.contains(">concise</text>") && svg.contains(">overall</text>"), svg);
        assertTrue(r.err().contains("chart " + dir.resolve("scores.svg")), r.err());

        // a rerun scores nothing again and prints the same report
        CliRun again = CliRun.run("score", results.toString(), "--reward-model", model.toString(), "--out",
                out.toString(), "--json");
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.err().contains("0 new rows") && again.err().contains("24 already there"), again.err());
        assertEquals(rows.size(), lines(out).size());
        assertEquals(r.out(), again.out());
    }

    @Test
    void aRowWithoutItsAnswerIsNamedByFileAndLine() throws IOException {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"index\": 0, \"method\": \"base\", \"preference\": \"concise\", \"preference_text\":"
                + " \"Be concise.\", \"question\": \"Q?\", \"text\": \"A.\"}\n{\"index\": 1, \"method\": \"base\","
                + " \"preference\": \"concise\", \"preference_text\": \"Be concise.\", \"question\": \"Q?\"}\n");
        CliRun r = CliRun.run("score", bad.toString(), "--reward-model", model.toString(), "--out",
                dir.resolve("bad-scores.jsonl").toString());
        assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains(bad + ", line 2: field 'text' must be text"), r.err());
    }

    @Test
    void aCausalLanguageModelIsRefusedAsARewardModel() throws IOException {
        Path lm = dir.resolve("lm");
        RandomModelFolder.write(lm, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
        CliRun r = CliRun.run("score", results.toString(), "--reward-model", lm.toString(), "--out",
                dir.resolve("lm-scores.jsonl").toString());
        assertTrue(r.exitCode() != 0, r.toString());
        assertTrue(r.err().contains("not a reward model") && r.err().contains("score"), r.err());
    }

    @Test
    void anObjectiveOutsideTheLabelsIsAUsageError() {
        CliRun r = CliRun.run("score", results.toString(), "--reward-model", model.toString(), "--out",
                dir.resolve("o-scores.jsonl").toString(), "--objective", "6");
        assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("--objective: 6 is outside the reward model's 1 label(s)"), r.err());
    }

    @Test
    void thePaperFormatScoresTheScriptsTokensCutToTheRecordedLength() throws IOException {
        Path armo = dir.resolve("armo");
        RewardModelFolders.writeArmoRm(armo, 8, 16, 2, 3.0);
        Path res = dir.resolve("paper/results.jsonl");
        Files.createDirectories(res.getParent());
        Files.copy(results, res);
        CliRun none = CliRun.run("score", res.toString(), "--reward-model", armo.toString(), "--out",
                dir.resolve("paper/none.jsonl").toString(), "--paper-format");
        assertEquals(AmuletCli.USAGE, none.exitCode(), none.toString());
        assertTrue(none.err().contains("--paper-max-tokens"), none.err());

        Files.writeString(io.github.amulet4j.eval.EvalSettings.fileFor(res),
                "{\"model\": \"tiny\", \"max_new_tokens\": 40}");
        Path out = dir.resolve("paper/scores.jsonl");
        CliRun r = CliRun.run("score", res.toString(), "--reward-model", armo.toString(), "--out", out.toString(),
                "--paper-format");
        assertEquals(0, r.exitCode(), r.toString());
        List<JsonObject> rows = lines(out);
        assertEquals(24, rows.size());
        int truncated = 0;
        try (RewardModel rm = RewardModel.load(armo)) {
            for (JsonObject o : rows) {
                String user = o.get("question").getAsString() + " " + o.get("preference_text").getAsString();
                Conversation c = Conversation.of(null, List.of(ChatMessage.user(user),
                        ChatMessage.assistant(o.get("text").getAsString())));
                io.github.amulet4j.djl.RewardTokens t = rm.encode(c, io.github.amulet4j.djl.RewardEncoding.paper(40));
                float want = rm.scoreEncoded(List.of(t)).get(0).reward(6);
                assertEquals(want, o.get("reward").getAsFloat(), 1e-4f + 1e-4f * Math.abs(want), o.toString());
                assertEquals(t.length(), o.get("reward_tokens").getAsInt());
                assertEquals("paper:40", o.get("reward_format").getAsString());
                assertEquals("objective_6", o.get("reward_objective").getAsString());
                truncated += o.has("reward_truncated_from") ? 1 : 0;
            }
        }
        assertTrue(truncated > 0, "the tiny tokenizer makes some rows longer than 40 tokens");
        assertTrue(r.err().contains(truncated + " truncated"), r.err());

        CliRun other = CliRun.run("score", res.toString(), "--reward-model", armo.toString(), "--out",
                out.toString());
        assertEquals(AmuletCli.USAGE, other.exitCode(), other.toString());
        assertTrue(other.err().contains("reward_format 'paper:40', this run's is 'documented'"), other.err());
    }

    @Test
    void anAnswerLongerThanTheContextIsNamedByLineOrTruncated() throws IOException {
        Path res = dir.resolve("long.jsonl");
        Files.writeString(res, "{\"index\": 0, \"method\": \"base\", \"preference\": \"concise\", "
                + "\"preference_text\": \"Be concise.\", \"question\": \"Q?\", \"text\": \"A.\"}\n"
                + "{\"index\": 0, \"method\": \"amulet\", \"preference\": \"concise\", "
                + "\"preference_text\": \"Be concise.\", \"question\": \"Q?\", \"text\": \""
                + "rain ".repeat(400) + "\"}\n");
        CliRun r = CliRun.run("score", res.toString(), "--reward-model", model.toString(), "--out",
                dir.resolve("long-scores.jsonl").toString());
        assertEquals(AmuletCli.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("left out " + res + ", line 2") && r.err().contains("positions of the reward"),
                r.err());
        assertEquals(1, lines(dir.resolve("long-scores.jsonl")).size());

        CliRun t = CliRun.run("score", res.toString(), "--reward-model", model.toString(), "--out",
                dir.resolve("long-truncated.jsonl").toString(), "--truncate");
        assertEquals(0, t.exitCode(), t.toString());
        assertTrue(t.err().contains("1 truncated, 0 left out"), t.err());
        List<JsonObject> rows = lines(dir.resolve("long-truncated.jsonl"));
        assertEquals(2, rows.size());
        JsonObject cut = rows.stream().filter(o -> o.get("method").getAsString().equals("amulet")).findFirst()
                .orElseThrow();
        assertTrue(cut.get("reward_truncated_from").getAsInt() > cut.get("reward_tokens").getAsInt(), cut.toString());
        assertEquals("documented+truncate", cut.get("reward_format").getAsString());
    }

    @Test
    void aRowWithoutItsQuestionOrPreferenceTextIsNamedByFileAndLine() throws IOException {
        for (String field : new String[] {"question", "preference_text"}) {
            JsonObject row = new JsonObject();
            row.addProperty("index", 0);
            row.addProperty("method", "base");
            row.addProperty("preference", "concise");
            row.addProperty("preference_text", "Be concise.");
            row.addProperty("question", "Q?");
            row.addProperty("text", "A.");
            JsonObject bad = row.deepCopy();
            bad.remove(field);
            Path f = dir.resolve("no-" + field + ".jsonl");
            Files.writeString(f, row + "\n\n" + bad + "\n");
            CliRun r = CliRun.run("score", f.toString(), "--reward-model", model.toString(), "--out",
                    dir.resolve("no-" + field + "-scores.jsonl").toString());
            assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
            assertTrue(r.err().contains(f + ", line 3: field '" + field + "' must be text (missing"), r.err());
        }
    }

    @Test
    void aGgufRewardModelScoresAsItsFolder() throws IOException {
        Path gguf = dir.resolve("rm-q8_0.gguf");
        GgufModelWriter.convertFolder(model, gguf, GgmlType.Q8_0);
        Path fromFolder = dir.resolve("folder-q8-scores.jsonl");
        Path fromGguf = dir.resolve("gguf-q8-scores.jsonl");
        // on the Java kernels: the weights are compared, not the native kernels' 8-bit activations
        CliRun a = CliRun.run("score", results.toString(), "--reward-model", model.toString(), "--weights", "q8_0",
                "--kernels", "java", "--out", fromFolder.toString());
        CliRun b = CliRun.run("score", results.toString(), "--reward-model", gguf.toString(), "--kernels", "java",
                "--out", fromGguf.toString());
        assertEquals(0, a.exitCode(), a.toString());
        assertEquals(0, b.exitCode(), b.toString());
        List<JsonObject> x = lines(fromFolder);
        List<JsonObject> y = lines(fromGguf);
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            double want = x.get(i).get("reward").getAsDouble();
            // 1e-3: a matrix whose rows are not whole blocks is F32 in the GGUF and F16 when quantized on load
            assertEquals(want, y.get(i).get("reward").getAsDouble(), 1e-3 * Math.max(1e-2, Math.abs(want)), "row " + i);
            assertEquals(x.get(i).get("reward_tokens"), y.get(i).get("reward_tokens"));
            assertEquals(gguf.toString(), y.get(i).get("reward_model").getAsString());
        }
    }

    @Test
    void aModelWithoutARewardHeadIsRefusedNamingWhatIsMissing() throws IOException {
        // a causal LM's folder whose config claims a sequence-classification head it does not have
        Path noHead = dir.resolve("no-head");
        RandomModelFolder.write(noHead, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
        Path config = noHead.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
        com.google.gson.JsonArray archs = new com.google.gson.JsonArray();
        archs.add("Qwen2ForSequenceClassification");
        o.add("architectures", archs);
        o.addProperty("num_labels", 1);
        Files.writeString(config, o.toString());
        CliRun r = CliRun.run("score", results.toString(), "--reward-model", noHead.toString(), "--out",
                dir.resolve("no-head-scores.jsonl").toString());
        assertTrue(r.exitCode() != 0, r.toString());
        assertTrue(r.err().contains("score.weight"), r.err());

        // a causal LM's GGUF: no classification head
        Path lm = dir.resolve("lm");
        RandomModelFolder.write(lm, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
        Path gguf = dir.resolve("lm.gguf");
        GgufModelWriter.convertFolder(lm, gguf, GgmlType.F32);
        CliRun g = CliRun.run("score", results.toString(), "--reward-model", gguf.toString(), "--out",
                dir.resolve("gguf-scores.jsonl").toString());
        assertTrue(g.exitCode() != 0, g.toString());
        assertTrue(g.err().contains("no tensor 'cls.output.weight'") && g.err().contains("ArmoRM"), g.err());

        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        CliRun e = CliRun.run("score", results.toString(), "--reward-model", empty.toString(), "--out",
                dir.resolve("empty-scores.jsonl").toString());
        assertTrue(e.exitCode() != 0, e.toString());
        assertTrue(e.err().contains("config.json"), e.err());
    }
}
