package io.github.amulet4j.cli.judge;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.server.AmuletServer;
import io.github.amulet4j.server.ServerOptions;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet judge} against a real OpenAI-compatible server, {@code amulet serve} on a tiny random model: the
 * key, the request and the multi-turn retry are accepted, and the noise it answers is recorded as unparsable.
 */
class JudgeAgainstAmuletServeTest {

    @TempDir
    Path dir;

    @Test
    void judgesThroughAmuletServe() throws Exception {
        String key = "sk-serve-judge-0451";
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        Path results = JudgeCommandTest.results(dir.resolve("r.jsonl"),
                JudgeCommandTest.rows(2, List.of("base", "amulet"), "concise"));
        Path template = dir.resolve("short.txt");
        // the tiny model's context is 512 tokens: a short template
        Files.writeString(template, "P: {preference}\nQ: {question}\nA: {answer_a}\nB: {answer_b}\n[[A]], [[B]] or [[C]]?");
        Path out = dir.resolve("j.jsonl");
        try (AmuletModel model = AmuletModel.load(ModelOptions.of(folder));
             AmuletBatcher batcher = model.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder("tiny-judge").port(0).apiKey(key)
                     .defaults(GenerationConfig.builder().maxNewTokens(6).build()).build())) {
            String url = server.uri().toString().replaceAll("/+$", "") + "/v1";
            JudgeCommandTest.Run r = JudgeCommandTest.run(Map.of("SERVE_KEY", key), "judge", results.toString(),
                    "--judge-url", url, "--judge-model", "tiny-judge", "--judge-key-env", "SERVE_KEY",
                    "--judge-template", template.toString(), "--out", out.toString(), "--json", "--no-progress");
            assertEquals(0, r.exitCode(), r.toString());
            JsonObject overall = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("overall").get(0)
                    .getAsJsonObject();
            int counted = overall.get("wins").getAsInt() + overall.get("ties").getAsInt()
                    + overall.get("losses").getAsInt() + overall.get("unparsable").getAsInt();
            assertEquals(2, counted, r.out());
            assertEquals(2, overall.get("unparsable").getAsInt(), r.out());
            List<JsonObject> lines = JudgeCommandTest.lines(out);
            assertEquals(5, lines.size());
            for (JsonObject j : lines.subList(1, 5)) {
                assertEquals("tiny-judge", j.get("judge_model").getAsString());
                assertFalse(j.get("reply").getAsString().isEmpty(), j.toString());
                // random weights answer noise (greedy, fixed seed): no verdict, so the retry (a three-message
                // conversation with the reply as the assistant's turn) was asked and answered too
                assertTrue(j.get("unparsable").getAsBoolean(), j.toString());
                assertFalse(j.get("first_reply").getAsString().isEmpty(), j.toString());
                assertEquals(2, j.get("attempts").getAsInt(), j.toString());
            }
            for (String o : List.of(r.out(), r.err(), Files.readString(out), Files.readString(dir.resolve("j.svg")))) {
                assertFalse(o.contains(key));
            }
            // with a wrong key the server answers 401 and the run stops at once
            JudgeCommandTest.Run wrong = JudgeCommandTest.run(Map.of("SERVE_KEY", "sk-wrong"), "judge",
                    results.toString(), "--judge-url", url, "--judge-model", "tiny-judge", "--judge-key-env",
                    "SERVE_KEY", "--judge-template", template.toString(), "--out", dir.resolve("j2.jsonl").toString(),
                    "--judge-concurrency", "1");
            assertEquals(1, wrong.exitCode(), wrong.toString());
            assertTrue(wrong.err().contains("HTTP 401") && wrong.err().contains("1 judge request failed and the run stopped"),
                    wrong.err());
        }
    }
}
