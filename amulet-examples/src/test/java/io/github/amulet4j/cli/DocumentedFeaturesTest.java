package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.hub.FakeHubServer;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.PromptStyle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Features the user guide promises, through the command line on a tiny model, each against the library or
 * a value written out here: the sampling flags, {@code --prompt-style paper}, {@code --revision},
 * {@code eval --limit}, the eval file lock between two processes, {@code chat} without a preference and
 * {@code /help}.
 */
class DocumentedFeaturesTest {

    static final String QUESTION = "What is the ozone layer?";

    /** The paper's system prompt, as the paper's code writes it (ALGORITHM.md section 1). */
    static final String PAPER = "You are an AI designed to provide the most helpful, clear, and concise responses. "
            + "Focus on giving actionable information, ensuring accuracy and detail without overwhelming the user. "
            + "You should also be patient, polite, and calm. Avoid unnecessary complexity and always prioritize "
            + "practical, user-friendly advice. ";

    @TempDir
    static Path dir;

    static Path model;

    @BeforeAll
    static void writeTinyModel() {
        model = dir.resolve("tiny-qwen2");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
    }

    private static int[] tokens(CliRun r) {
        assertEquals(0, r.exitCode(), r::toString);
        return CommandsTest.json(r.out()).getAsJsonArray("token_ids").asList().stream().mapToInt(e -> e.getAsInt()).toArray();
    }

    private static CliRun generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "10", "--json"));
        args.addAll(List.of(extra));
        args.add(QUESTION);
        return CliRun.run(args.toArray(String[]::new));
    }

    @Test
    void samplingFlagsReachTheSamplerAsTheLibraryTakesThem() throws IOException {
        int[] sampled = tokens(generate("--temperature", "1.5", "--top-p", "0.95", "--top-k", "50", "--seed", "7"));
        assertArrayEquals(sampled, tokens(generate("--temperature", "1.5", "--top-p", "0.95", "--top-k", "50", "--seed", "7")),
                "same seed, same tokens");
        try (AmuletModel m = AmuletModel.load(model)) {
            GenerationConfig c = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(10).decoding(DecodingConfig
                    .builder().greedy(false).temperature(1.5).topP(0.95).topK(50).seed(7).build()).build();
            assertArrayEquals(m.generate(AmuletRequest.builder(QUESTION).preference("concise").config(c).build(),
                    TokenListener.NONE).tokenIds(), sampled, "the library with the same decoding settings");
        }
        int[] greedy = tokens(generate());
        assertNotEquals(List.of(greedy), List.of(sampled));
        boolean seedMatters = false;
        for (int seed = 8; seed < 12 && !seedMatters; seed++) {
            seedMatters = !java.util.Arrays.equals(sampled,
                    tokens(generate("--temperature", "1.5", "--top-p", "0.95", "--top-k", "50", "--seed", "" + seed)));
        }
        assertTrue(seedMatters, "--seed is ignored");
        // each filter alone can make sampling greedy: only the best token survives
        assertArrayEquals(greedy, tokens(generate("--seed", "7", "--temperature", "1.5", "--top-k", "1")), "--top-k 1");
        assertArrayEquals(greedy, tokens(generate("--seed", "7", "--temperature", "1.5", "--top-p", "1e-9")), "--top-p ~0");
        assertArrayEquals(greedy, tokens(generate("--seed", "7", "--temperature", "1e-4")), "--temperature ~0");
    }

    @Test
    void paperPromptStyleUsesThePapersSystemPromptInBothStreams() throws IOException {
        CliRun p = CliRun.run("prompt", "--model", model.toString(), "--preference", "Be brief.", "--prompt-style", "paper",
                "--json", QUESTION);
        assertEquals(0, p.exitCode(), p::toString);
        JsonObject o = CommandsTest.json(p.out());
        String turns = "<|im_start|>user\n" + QUESTION + "<|im_end|>\n<|im_start|>assistant\n";
        assertEquals("<|im_start|>system\n" + PAPER + "<|im_end|>\n" + turns,
                o.getAsJsonObject("base").get("text").getAsString(), "base: the placeholder empty, its space kept");
        assertEquals("<|im_start|>system\n" + PAPER + "Be brief.<|im_end|>\n" + turns,
                o.getAsJsonObject("preference").get("text").getAsString());

        int[] cli = tokens(generate("--prompt-style", "paper"));
        try (AmuletModel m = AmuletModel.load(model)) {
            GenerationConfig c = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(10).build();
            assertArrayEquals(m.generate(AmuletRequest.builder(QUESTION).preference("concise").promptStyle(PromptStyle.PAPER)
                    .config(c).build(), TokenListener.NONE).tokenIds(), cli);
        }
        CliRun bad = CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "--prompt-style", "papers",
                QUESTION);
        assertEquals(AmuletCli.USAGE, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("--prompt-style") && bad.err().contains("papers"), bad::toString);
    }

    @Test
    void revisionIsTheRevisionDownloadedAndCached() throws Exception {
        String repo = "org/tiny";
        Path folder = dir.resolve("served");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        Path cache = dir.resolve("hub-cache");
        try (FakeHubServer hub = new FakeHubServer(repo)) {
            hub.addFolder(folder);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString(),
                    "HF_HOME", dir.resolve("hf-home").toString());
            CliRun r = CliRun.runWithEnvironment(env, "generate", "--model", repo, "--revision", "v1.0", "--preference",
                    "concise", "--max-new-tokens", "3", "--json", QUESTION);
            assertEquals(0, r.exitCode(), r::toString);
            assertTrue(hub.requestCount("GET", "/api/models/" + repo + "/revision/v1.0") >= 1, "the revision asked for");
            assertEquals(0, hub.requestCount("GET", "/api/models/" + repo + "/revision/main"), "not main");
            assertEquals(0, hub.requestCount("GET", "/" + repo + "/resolve/main/") + hub.requestCount("HEAD", "/" + repo + "/resolve/main/"));
            Path ref = cache.resolve("models--org--tiny/refs/v1.0");
            assertTrue(Files.isRegularFile(ref), "refs/v1.0 in the cache");
            String commit = Files.readString(ref).strip();
            assertTrue(Files.isRegularFile(cache.resolve("models--org--tiny/snapshots/" + commit + "/model.safetensors")));
        }
    }

    @Test
    void evalLimitRunsOnlyTheFirstQuestions() throws IOException {
        Path dataset = dir.resolve("five.json");
        Files.writeString(dataset, "[{\"index\": 4, \"question\": \"A?\"}, {\"index\": 9, \"question\": \"B?\"},"
                + " {\"index\": 2, \"question\": \"C?\"}, {\"index\": 7, \"question\": \"D?\"}, {\"index\": 1, \"question\": \"E?\"}]");
        Path out = dir.resolve("limit.jsonl");
        CliRun r = CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(), "--methods", "base",
                "--preferences", "concise", "--max-new-tokens", "2", "--limit", "2", "--no-progress", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        List<Integer> indices = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            indices.add(CommandsTest.json(line).get("index").getAsInt());
        }
        assertEquals(List.of(4, 9), indices, "the first two questions of the file, in its order");
        CliRun bad = CliRun.run("eval", "--model", model.toString(), "--dataset", dataset.toString(), "--preferences",
                "concise", "--limit", "0", "--out", dir.resolve("bad-limit.jsonl").toString());
        assertEquals(AmuletCli.USAGE, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("--limit"), bad::toString);
    }

    @Test
    void evalRefusesAResultsFileAnotherProcessIsWriting() throws Exception {
        Path big = dir.resolve("many.json");
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 200; i++) {
            sb.append(i > 0 ? "," : "").append("{\"index\": ").append(i).append(", \"question\": \"Q").append(i).append("?\"}");
        }
        Files.writeString(big, sb.append("]").toString());
        Path out = dir.resolve("locked.jsonl");
        List<String> args = List.of("eval", "--model", model.toString(), "--dataset", big.toString(), "--methods", "base",
                "--preferences", "concise", "--max-new-tokens", "2", "--no-progress", "--out", out.toString());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                AmuletCli.class.getName()));
        cmd.addAll(args);
        Process other = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("locked.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (other.isAlive() && System.nanoTime() < deadline && EvalCommandTest.wholeLines(out).isEmpty()) {
                Thread.sleep(20);
            }
            assertTrue(other.isAlive(), "the other run is still writing\n" + Files.readString(dir.resolve("locked.log")));
            CliRun second = CliRun.run(args.toArray(String[]::new));
            assertEquals(AmuletCli.USAGE, second.exitCode(), second::toString);
            assertTrue(second.err().contains("--out") && second.err().contains("being written by another eval run"),
                    second::toString);
        } finally {
            other.destroyForcibly();
            other.waitFor(30, TimeUnit.SECONDS);
        }
        // the lock went with the process: the same command resumes the file
        CliRun resumed = CliRun.run(args.subList(0, args.size()).toArray(String[]::new));
        assertEquals(0, resumed.exitCode(), resumed::toString);
        assertEquals(200, EvalCommandTest.rows(out).size());
    }

    @Test
    void chatWithoutAPreferenceAnswersWithBaseAndShowsHelp() {
        CliRun chat = CliRun.runWithInput("/help\n" + QUESTION + "\n/exit\n", "chat", "--model", model.toString(),
                "--max-new-tokens", "6");
        assertEquals(0, chat.exitCode(), chat::toString);
        String out = chat.out();
        assertTrue(out.contains("preference: (none)"), out);
        String help = "commands: /pref TEXT|PRESET";
        assertEquals(2, out.split(java.util.regex.Pattern.quote(help), -1).length - 1, "help at the start and after /help: " + out);
        String notice = "(no preference yet: answering with base; set one with /pref)" + System.lineSeparator();
        assertTrue(out.contains(notice), out);
        String answer = out.substring(out.indexOf(notice) + notice.length());
        answer = answer.substring(0, answer.indexOf(System.lineSeparator()));
        CliRun base = CliRun.run("generate", "--model", model.toString(), "--method", "base", "--max-new-tokens", "6",
                "--json", QUESTION);
        assertEquals(0, base.exitCode(), base::toString);
        assertEquals(CommandsTest.json(base.out()).get("text").getAsString(), answer, "the base answer");
    }
}
