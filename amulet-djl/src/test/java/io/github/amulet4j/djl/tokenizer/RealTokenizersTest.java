package io.github.amulet4j.djl.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.PromptRenderer;
import io.github.amulet4j.djl.PromptPair;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real tokenizers (GPT-2's byte-level BPE; Mistral-7B's SentencePiece-style BPE with byte fallback) against
 * the ids of an independent implementation, for spaces, digits, Unicode, emoji, code, special tokens and
 * chat-template output. The files and the ids are written by
 * {@code src/test/resources/tokenizers/regenerate_expected.js} (sources and licences in each folder's SOURCE.md).
 */
class RealTokenizersTest {

    @TempDir
    Path dir;

    record Case(String text, int[] ids, int[] idsWithSpecialTokens, String decoded) {
    }

    /** Unpacks resources/tokenizers/NAME into a folder (tokenizer.json is stored gzipped). */
    static Path unpack(String name, Path into) throws IOException {
        Path folder = into.resolve(name);
        Files.createDirectories(folder);
        try (InputStream gz = new GZIPInputStream(resource(name + "/tokenizer.json.gz"))) {
            Files.copy(gz, folder.resolve("tokenizer.json"));
        }
        try (InputStream config = resource(name + "/tokenizer_config.json")) {
            Files.copy(config, folder.resolve("tokenizer_config.json"));
        }
        return folder;
    }

    private static InputStream resource(String path) {
        InputStream in = RealTokenizersTest.class.getResourceAsStream("/tokenizers/" + path);
        if (in == null) {
            throw new IllegalStateException("missing test resource tokenizers/" + path);
        }
        return in;
    }

    static List<Case> cases(String name) throws IOException {
        JsonObject o;
        try (InputStream in = resource(name + "/expected.json")) {
            o = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
        return o.getAsJsonArray("cases").asList().stream().map(JsonElement::getAsJsonObject)
                .map(c -> new Case(c.get("text").getAsString(), ints(c, "ids"), ints(c, "ids_with_special_tokens"),
                        c.get("decoded").getAsString()))
                .toList();
    }

    private static int[] ints(JsonObject o, String field) {
        return o.getAsJsonArray(field).asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "mistral"})
    void encodeAndDecodeGiveTheIdsOfTheIndependentImplementation(String name) throws IOException {
        List<Case> cases = cases(name);
        assertTrue(cases.size() >= 15, "cases: " + cases.size());
        try (HfTokenizer t = HfTokenizer.load(unpack(name, dir))) {
            for (Case c : cases) {
                String what = name + " " + quoted(c.text());
                assertArrayEquals(c.ids(), t.encode(c.text()), what);
                assertEquals(c.decoded(), t.decode(c.ids(), false), what + ": decode");
                // the prompt path adds BOS as the tokenizer's settings say (Mistral: yes, GPT-2: no), never twice
                int[] prompt = t.encodePrompt(c.text(), false);
                if (c.ids().length > 0 && c.ids()[0] == t.bosTokenId() && t.addsBos()) {
                    assertArrayEquals(c.ids(), prompt, what + ": text that starts with BOS gets no second one");
                } else {
                    assertArrayEquals(c.idsWithSpecialTokens(), prompt, what + ": prompt ids");
                }
            }
        }
    }

    @Test
    void vocabularyAndSpecialTokensOfTheRealFiles() throws IOException {
        try (HfTokenizer gpt2 = HfTokenizer.load(unpack("gpt2", dir))) {
            assertEquals(50257, gpt2.vocabularySize());
            assertEquals(50256, gpt2.eosTokenId());
            assertEquals(50256, gpt2.tokenToId("<|endoftext|>"));
            assertEquals("\u0120world", gpt2.idToToken(995));
            assertTrue(!gpt2.addsBos());
        }
        try (HfTokenizer mistral = HfTokenizer.load(unpack("mistral", dir))) {
            assertEquals(32000, mistral.vocabularySize());
            assertEquals(1, mistral.bosTokenId());
            assertEquals(2, mistral.eosTokenId());
            assertTrue(mistral.addsBos());
            // byte fallback: the byte tokens <0x00>..<0xFF> are ids 3..258
            assertEquals(3 + 0xF0, mistral.tokenToId("<0xF0>"));
            assertEquals("\u2581Hello", mistral.idToToken(22557));
            assertTrue(mistral.isSpecial(1) && mistral.isSpecial(2) && !mistral.isSpecial(22557));
        }
    }

    @Test
    void mistralTwoStreamPromptsAreTheTextsAndIdsOfTheReference() throws IOException {
        // a model folder around the real tokenizer: the chat template refuses the system role, so the
        // preference goes in front of the question, and the rendered text starts with BOS (not added twice)
        Path folder = unpack("mistral", dir);
        Files.writeString(folder.resolve("config.json"), "{\"architectures\": [\"MistralForCausalLM\"], "
                + "\"model_type\": \"mistral\", \"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4,"
                + " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 32000,"
                + " \"max_position_embeddings\": 256, \"rms_norm_eps\": 1e-5, \"bos_token_id\": 1, \"eos_token_id\": 2}");
        List<Case> cases = cases("mistral");
        Case base = find(cases, "<s>[INST] What is the ozone layer? [/INST]");
        Case pref = find(cases, "<s>[INST] Answer in as few words as you can.\n\nWhat is the ozone layer? [/INST]");
        try (PromptRenderer renderer = PromptRenderer.load(folder)) {
            PromptPair p = renderer.render("What is the ozone layer?", Preference.of("Answer in as few words as you can."));
            assertEquals(base.text(), p.base().text());
            assertArrayEquals(base.ids(), p.base().tokenIds());
            assertEquals(pref.text(), p.preference().text());
            assertArrayEquals(pref.ids(), p.preference().tokenIds());
            assertTrue(renderer.eosTokenIds().contains(2), renderer.eosTokenIds().toString());
        }
    }

    private static Case find(List<Case> cases, String text) {
        return cases.stream().filter(c -> c.text().equals(text)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no case " + quoted(text)));
    }

    private static String quoted(String s) {
        return "'" + s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "'";
    }
}
