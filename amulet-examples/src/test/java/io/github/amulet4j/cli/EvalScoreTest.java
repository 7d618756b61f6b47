package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.djl.RewardModelFolders;
import io.github.amulet4j.prompt.ChatMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paper's protocol in one command: {@code eval --score} generates every method x preference, scores every row
 * with the reward model (here a tiny ArmoRM, in the paper's input format cut to the eval's {@code --max-new-tokens})
 * and prints the paper's table; the rewards are those the library gives each row's conversation, and a rerun
 * generates and scores nothing again.
 */
class EvalScoreTest {

    @TempDir
    static Path dir;

    private static Path model;
    private static Path armo;
    private static Path dataset;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
        armo = dir.resolve("armo");
        RewardModelFolders.writeArmoRm(armo, 8, 16, 2, 3.0);
        dataset = dir.resolve("questions.json");
        Files.writeString(dataset, "[{\"index\": 1, \"question\": \"Why is the sky blue?\"},"
                + " {\"index\": 2, \"question\": \"What is rain?\"}]");
    }

    private static List<JsonObject> lines(Path f) throws IOException {
        List<JsonObject> out = new ArrayList<>();
        for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            out.add(JsonParser.parseString(l).getAsJsonObject());
        }
        return out;
    }

    @Test
    void evalScoreGeneratesScoresAndPrintsThePapersTableResumably() throws IOException {
        Path out = dir.resolve("results.jsonl");
        Path prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "{\"concise\": \"Be brief.\", \"formal\": \"Be formal.\"}");
        String[] args = {"eval", "--model", model.toString(), "--dataset", dataset.toString(), "--methods",
            "base,pref,la,amulet", "--preference-file", prefs.toString(), "--max-new-tokens", "80", "--out",
            out.toString(),
            "--no-progress", "--score", armo.toString(), "--paper-format", "--candidate", "amulet,la"};
        CliRun r = CliRun.run(args);
        assertEquals(0, r.exitCode(), r.toString());
        Path scores = dir.resolve("results.scores.jsonl");
        List<JsonObject> rows = lines(scores);
        assertEquals(2 * 4 * 2, rows.size());
        assertEquals(lines(out).size(), rows.size());
        int maxTokens = 80;
        try (RewardModel rm = RewardModel.load(armo)) {
            for (JsonObject o : rows) {
                Conversation c = Conversation.of(null, List.of(ChatMessage.user(o.get("question").getAsString() + " "
                        + o.get("preference_text").getAsString()), ChatMessage.assistant(o.get("text").getAsString())));
                float want = rm.scoreEncoded(List.of(rm.encode(c, RewardEncoding.paper(maxTokens)))).get(0).reward(6);
                assertEquals(want, o.get("reward").getAsFloat(), 1e-4f + 1e-4f * Math.abs(want), o.toString());
                assertEquals("paper:" + maxTokens, o.get("reward_format").getAsString());
            }
        }
        // the paper's table: a row per preference, the methods as columns in --methods order
        List<String> table = r.out().lines().toList();
        int header = -1;
        for (int i = 0; i < table.size(); i++) {
            if (table.get(i).startsWith("preference") && table.get(i).contains("amulet")) {
                header = i;
            }
        }
        assertTrue(header >= 0, r.out());
        assertTrue(table.get(header).matches("preference\\s+base\\s+pref\\s+la\\s+amulet"), table.get(header));
        assertTrue(table.get(header + 1).startsWith("concise") && table.get(header + 2).startsWith("formal"), r.out());
        assertTrue(r.out().contains("amulet over base: ") && r.out().contains("la over pref: ")
                && r.out().contains("of 4 questions x preferences"), r.out());
        assertTrue(Files.readString(dir.resolve("results.scores.svg")).contains("amulet vs base"));

        CliRun again = CliRun.run(args);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.err().contains("0 new rows in " + scores + " (16 already there)"), again.err());
        assertEquals(16, lines(scores).size());
    }

    @Test
    void theRewardFlagsGoWithScore() {
        CliRun r = CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(), "--preferences",
                "concise", "--out", dir.resolve("x.jsonl").toString(), "--paper-format");
        assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("go with --score REWARD_MODEL"), r.err());
    }
}
