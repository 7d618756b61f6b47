package io.github.amulet4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.prompt.PreferencePresets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command's normal path and the {@code --json} fields, on a tiny checkpoint written by {@code random-model}. */
class CommandsTest {

    @TempDir
    static Path dir;

    static Path model;

    static final String QUESTION = "What is the ozone layer?";

    @BeforeAll
    static void writeTinyModel() {
        model = dir.resolve("tiny-qwen2");
        CliRun r = CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString());
        assertEquals(0, r.exitCode(), r::toString);
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                "tokenizer_config.json")) {
            assertTrue(Files.isRegularFile(model.resolve(f)), f);
        }
    }

    static JsonObject json(String text) {
        return JsonParser.parseString(text.strip()).getAsJsonObject();
    }

    @Test
    void randomModelRefusesANonEmptyFolderWithoutForce() {
        CliRun r = CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString());
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("not empty"), r::toString);
        CliRun bad = CliRun.run("random-model", "--shape", "tiny-bert", "--out", dir.resolve("x").toString());
        assertEquals(2, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("unknown shape 'tiny-bert'"), bad::toString);
    }

    /** {@code --llama-twin} writes a Llama of the shape's sizes, which generates. */
    @Test
    void randomModelWritesALlamaTwin() throws Exception {
        Path twin = dir.resolve("tiny-gemma2-llama");
        CliRun r = CliRun.run("random-model", "--shape", "tiny-gemma2", "--llama-twin", "--out", twin.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonObject c = json(Files.readString(twin.resolve("config.json")));
        assertEquals("LlamaForCausalLM", c.getAsJsonArray("architectures").get(0).getAsString());
        assertEquals(48, c.get("hidden_size").getAsInt());
        assertEquals(16, c.get("head_dim").getAsInt());
        assertTrue(!c.has("final_logit_softcapping") && !c.has("layer_types"), c::toString);
        CliRun g = CliRun.run("generate", "--model", twin.toString(), "--method", "base", "--max-new-tokens", "3",
                QUESTION);
        assertEquals(0, g.exitCode(), g::toString);
    }

    @Test
    void generateJsonHasTheIssueFieldsAndStreamingPrintsTheSameText() {
        CliRun j = CliRun.run("generate", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "6", "--json", QUESTION);
        assertEquals(0, j.exitCode(), j::toString);
        JsonObject o = json(j.out());
        for (String f : List.of("text", "token_ids", "method", "model", "preference", "prompt_tokens", "new_tokens", "seconds")) {
            assertTrue(o.has(f), "missing " + f + " in " + o);
        }
        assertEquals("amulet", o.get("method").getAsString());
        assertEquals(model.toString(), o.get("model").getAsString());
        assertEquals(PreferencePresets.all().get("concise"), o.get("preference").getAsString());
        int n = o.get("new_tokens").getAsInt();
        assertEquals(n, o.getAsJsonArray("token_ids").size());
        assertTrue(n >= 1 && n <= 6, "new_tokens " + n);
        assertTrue(o.get("seconds").getAsDouble() > 0);

        // prompt_tokens is the length of the preference prompt that `prompt` shows
        CliRun p = CliRun.run("prompt", "--model", model.toString(), "--preference", "concise", "--json", QUESTION);
        assertEquals(0, p.exitCode(), p::toString);
        assertEquals(json(p.out()).getAsJsonObject("preference").getAsJsonArray("token_ids").size(),
                o.get("prompt_tokens").getAsInt());

        // streaming prints exactly the text of the JSON run (greedy decoding is deterministic)
        CliRun s = CliRun.run("generate", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "6", QUESTION);
        assertEquals(0, s.exitCode(), s::toString);
        assertEquals(o.get("text").getAsString() + System.lineSeparator(), s.out());
    }

    @Test
    void productThreadsLinearKernelsAndPrefillChunksDoNotChangeTheTokens() {
        // pref decodes one stream (one-column products, split over the product threads); amulet decodes two
        for (String method : new String[] {"pref", "amulet"}) {
            java.util.Set<String> tokens = new java.util.LinkedHashSet<>();
            // and prefill chunks of 5 tokens (which do not divide the prompts) against the default
            for (String[] variant : new String[][] {{"1", "engine", "256"}, {"3", "engine", "5"}, {"1", "java", "5"},
                    {"3", "java", "256"}}) {
                CliRun r = CliRun.run("generate", "--model", model.toString(), "--preference", "concise", "--method",
                        method, "--max-new-tokens", "8", "--product-threads", variant[0], "--linear-kernel", variant[1],
                        "--prefill-chunk", variant[2], "--json", QUESTION);
                assertEquals(0, r.exitCode(), r::toString);
                tokens.add(json(r.out()).getAsJsonArray("token_ids").toString());
            }
            assertEquals(1, tokens.size(), method + ": " + tokens);
        }
    }

    @Test
    void everyWeightFormatGeneratesAndEngineOnlyFormatsAreRefusedByFlag() {
        for (String w : new String[] {"auto", "f32", "bf16", "f16", "q8_0", "q4_0"}) {
            CliRun r = CliRun.run("generate", "--model", model.toString(), "--preference", "concise",
                    "--max-new-tokens", "3", "--weights", w, "--json", QUESTION);
            assertEquals(0, r.exitCode(), w + ": " + r);
        }
        CliRun engine = CliRun.run("generate", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "3", "--weights", "q8_0",
                "--linear-kernel", "engine", QUESTION);
        assertTrue(engine.exitCode() != 0 && engine.err().contains("weights Q8_0"), engine::toString);
    }

    @Test
    void promptShowsBothStreamsAndNeedsNoWeights() throws IOException {
        Path noWeights = dir.resolve("no-weights");
        Files.createDirectories(noWeights);
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().endsWith(".safetensors")) {
                    Files.copy(f, noWeights.resolve(f.getFileName()));
                }
            }
        }
        CliRun p = CliRun.run("prompt", "--model", noWeights.toString(), "--preference", "be brief",
                "--system", "You answer questions.", "--json", QUESTION);
        assertEquals(0, p.exitCode(), p::toString);
        JsonObject o = json(p.out());
        String base = o.getAsJsonObject("base").get("text").getAsString();
        String pref = o.getAsJsonObject("preference").get("text").getAsString();
        assertTrue(base.contains(QUESTION) && pref.contains(QUESTION));
        assertTrue(pref.contains("You answer questions. be brief"), pref);
        assertFalse(base.contains("be brief"), base);
        assertTrue(o.getAsJsonObject("preference").getAsJsonArray("token_ids").size()
                > o.getAsJsonObject("base").getAsJsonArray("token_ids").size());

        assertFalse(o.has("template_default_system"), "a --system replaces the template's default");

        // no --system: the tiny model's template default ("You are a helpful assistant.") is kept before the preference
        CliRun d = CliRun.run("prompt", "--model", noWeights.toString(), "--preference", "be brief", "--json", QUESTION);
        assertEquals(0, d.exitCode(), d::toString);
        JsonObject od = json(d.out());
        assertEquals("You are a helpful assistant.", od.get("template_default_system").getAsString());
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + QUESTION
                + "<|im_end|>\n<|im_start|>assistant\n", od.getAsJsonObject("base").get("text").getAsString());
        assertEquals("<|im_start|>system\nYou are a helpful assistant. be brief<|im_end|>\n<|im_start|>user\n" + QUESTION
                + "<|im_end|>\n<|im_start|>assistant\n", od.getAsJsonObject("preference").get("text").getAsString());

        CliRun text = CliRun.run("prompt", "--model", noWeights.toString(), "--preference", "be brief", QUESTION);
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("=== base stream") && text.out().contains("=== preference stream"), text::toString);
        assertTrue(text.out().contains("default system message") && text.out().contains("You are a helpful assistant. be brief"),
                text::toString);

        // generating needs the weights: a run-time failure, one clear line
        CliRun g = CliRun.run("generate", "--model", noWeights.toString(), "--preference", "concise", QUESTION);
        assertEquals(1, g.exitCode(), g::toString);
        assertTrue(g.err().contains("safetensors"), g::toString);
        assertFalse(g.err().contains("\tat "), "no stack trace without --verbose: " + g);
        CliRun v = CliRun.run("generate", "--verbose", "--model", noWeights.toString(), "--preference", "concise", QUESTION);
        assertEquals(1, v.exitCode(), v::toString);
        assertTrue(v.err().contains("\tat "), "stack trace with --verbose: " + v);
    }

    @Test
    void compareRunsEveryMethodSideBySide() {
        CliRun j = CliRun.run("compare", "--model", model.toString(), "--preference", "creative", "--methods",
                "base,pref,amulet", "--max-new-tokens", "4", "--json", QUESTION);
        assertEquals(0, j.exitCode(), j::toString);
        JsonArray a = JsonParser.parseString(j.out()).getAsJsonArray();
        assertEquals(3, a.size());
        assertEquals(List.of("base", "pref", "amulet"),
                a.asList().stream().map(e -> e.getAsJsonObject().get("method").getAsString()).toList());
        for (var e : a) {
            assertTrue(e.getAsJsonObject().has("tokens_per_second"));
        }
        // compare's base answer is generate --method base's answer
        CliRun g = CliRun.run("generate", "--model", model.toString(), "--method", "base", "--max-new-tokens", "4",
                "--json", QUESTION);
        assertEquals(0, g.exitCode(), g::toString);
        assertEquals(json(g.out()).get("token_ids"), a.get(0).getAsJsonObject().get("token_ids"));

        CliRun t = CliRun.run("compare", "--model", model.toString(), "--preference", "creative", "--methods",
                "base,la", "--max-new-tokens", "4", "--width", "80", QUESTION);
        assertEquals(0, t.exitCode(), t::toString);
        String header = t.out().lines().findFirst().orElseThrow();
        assertTrue(header.startsWith("base") && header.contains("| la"), header);
        assertTrue(t.out().contains("tok/s"), t::toString);
    }

    @Test
    void chatKeepsGoingAcrossPreferenceAndMethodChanges() {
        String input = String.join("\n", "Hello there", "/pref formal", "/method la", "And now?", "/method nope",
                "/reset", "/pref", "/exit", "");
        CliRun c = CliRun.runWithInput(input, "chat", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "3");
        assertEquals(0, c.exitCode(), c::toString);
        assertTrue(c.out().contains("(preference: " + PreferencePresets.all().get("formal") + ")"), c::toString);
        assertTrue(c.out().contains("(method: la)"), c::toString);
        assertTrue(c.out().contains("unknown method 'nope'"), c::toString);
        assertTrue(c.out().contains("(conversation cleared)"), c::toString);
    }

    @Test
    void chatVerbosePrintsPromptTokensReusedPerTurn() {
        String input = String.join("\n", "Hello there", "And now?", "/pref formal", "Once more?", "/exit", "");
        CliRun c = CliRun.runWithInput(input, "chat", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "3", "--verbose");
        assertEquals(0, c.exitCode(), c::toString);
        List<String> turns = c.err().lines().filter(l -> l.startsWith("(prompt ")).toList();
        assertEquals(3, turns.size(), c::toString);
        assertTrue(turns.get(0).contains(": 0 reused"), turns.get(0));
        // the second turn reuses the first (both streams); after /pref the base stream is still reused
        assertFalse(turns.get(1).contains(": 0 reused"), turns.get(1));
        assertFalse(turns.get(2).contains(": 0 reused"), turns.get(2));
        CliRun off = CliRun.runWithInput(input, "chat", "--model", model.toString(), "--preference", "concise",
                "--max-new-tokens", "3", "--verbose", "--prompt-cache-mib", "0");
        assertEquals(0, off.exitCode(), off::toString);
        assertEquals(3, off.err().lines().filter(l -> l.startsWith("(prompt ") && l.contains(": 0 reused")).count(),
                off::toString);
        assertEquals(c.out(), off.out(), "the same answers with and without the prompt cache");
    }

    @Test
    void chatDropsTheOldestTurnsWhenTheContextFillsAndRefusesATurnThatCannotFit() {
        String turn = "Tell me more about the ozone layer and the ways it protects us from the sun today.";
        List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add(i + " " + turn);
        }
        lines.add(turn.repeat(40));
        lines.add("still there?");
        lines.add("/exit");
        CliRun c = CliRun.runWithInput(String.join("\n", lines) + "\n", "chat", "--model", model.toString(),
                "--preference", "concise", "--system", "Be brief.", "--max-new-tokens", "3");
        assertEquals(0, c.exitCode(), c::toString);
        assertTrue(c.err().contains("oldest turns were dropped"), c::toString);
        assertTrue(c.err().contains("this turn does not fit") && c.err().contains("positions"), c::toString);
        // every prompt that fits was answered: 9 of the 10 lines ("> " prompts before each line and at /exit)
        assertEquals(lines.size(), c.out().split("> ", -1).length - 1, c::toString);
    }

    @Test
    void modelsListsTheCache(@TempDir Path cache) throws IOException {
        Path snap = cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/0123456789abcdef0123");
        Files.createDirectories(snap);
        Files.writeString(snap.resolve("config.json"), "{}");
        Files.writeString(snap.resolve("model.safetensors"), "x");
        Files.createDirectories(cache.resolve("models--gpt2/snapshots/abc"));
        Files.createDirectories(cache.resolve("datasets--x--y"));
        List<ModelsCommand.CachedModel> list = ModelsCommand.list(cache);
        assertEquals(List.of("Qwen/Qwen2.5-0.5B-Instruct", "gpt2"), list.stream().map(ModelsCommand.CachedModel::id).toList());
        assertTrue(list.get(0).hasWeights());
        assertFalse(list.get(1).hasWeights());
        assertEquals(List.of("0123456789ab"), list.get(0).revisions());
        Files.createDirectories(cache.resolve("models--gpt2/blobs"));
        Files.write(cache.resolve("models--gpt2/blobs/0a1b"), new byte[3 * 1024]);
        // the command reads the cache its environment names, never the real ~/.cache
        CliRun r = CliRun.runWithEnvironment(java.util.Map.of("HF_HUB_CACHE", cache.toString()), "models");
        assertEquals(0, r.exitCode(), r::toString);
        List<String> lines = r.out().lines().toList();
        assertEquals("models in " + cache + ":", lines.get(0), r::toString);
        assertEquals(4, lines.size(), r::toString);
        assertTrue(lines.get(2).matches("Qwen/Qwen2\\.5-0\\.5B-Instruct +0 B +yes +0123456789ab"), lines.get(2));
        assertTrue(lines.get(3).matches("gpt2 +3\\.0 KiB +no +abc"), lines.get(3));
        // HF_HOME/hub when HF_HUB_CACHE is unset; an empty cache says so
        Path home = cache.resolve("home");
        CliRun empty = CliRun.runWithEnvironment(java.util.Map.of("HF_HOME", home.toString()), "models");
        assertEquals(0, empty.exitCode(), empty::toString);
        assertEquals("no models in the Hugging Face cache " + home.resolve("hub"), empty.out().strip());
    }

    @Test
    void helpListsEveryCommand() {
        CliRun r = CliRun.run("--help");
        assertEquals(0, r.exitCode());
        for (String c : List.of("generate", "chat", "compare", "eval", "prompt", "models", "random-model")) {
            assertTrue(r.out().contains(c), c);
        }
        CliRun g = CliRun.run("generate", "--help");
        for (String opt : List.of("--model", "--preference", "--system", "--prompt-style", "--method", "--iterations",
                "--eta", "--alpha", "--lambda", "--ratio", "--beams", "--max-new-tokens", "--greedy", "--temperature",
                "--top-p", "--top-k", "--seed", "--device", "--dtype")) {
            assertTrue(g.out().contains(opt), opt);
        }
        assertNotEquals(0, CliRun.run().exitCode());
    }
}
