package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.GgufTokenizer;
import io.github.amulet4j.formats.gguf.GgufTokenizerExport;

import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real vocabularies (the test resources {@code tokenizers/gpt2} and {@code tokenizers/mistral}) through GGUF: GPT-2's
 * byte-level BPE exported to GGUF metadata, Mistral-7B's SentencePiece vocabulary written as llama.cpp does (tokens,
 * scores, token types, no merges); the tokenizers built from the GGUF files give the ids of {@code expected.json}
 * (from an independent JavaScript implementation) and of the original {@code tokenizer.json} on the text set.
 */
class GgufRealTokenizerTest {

    @TempDir
    Path dir;

    private Path folder(String name) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f);
        String base = "/tokenizers/" + name + "/";
        try (InputStream in = new GZIPInputStream(getClass().getResourceAsStream(base + "tokenizer.json.gz"))) {
            Files.write(f.resolve("tokenizer.json"), in.readAllBytes());
        }
        try (InputStream in = getClass().getResourceAsStream(base + "tokenizer_config.json")) {
            Files.write(f.resolve("tokenizer_config.json"), in.readAllBytes());
        }
        return f;
    }

    private List<JsonObject> cases(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/tokenizers/" + name + "/expected.json")) {
            JsonObject o = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            List<JsonObject> out = new ArrayList<>();
            o.getAsJsonArray("cases").forEach(c -> out.add(c.getAsJsonObject()));
            return out;
        }
    }

    private static int[] ids(JsonObject c, String key) {
        return c.getAsJsonArray(key).asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    private void assertSameEncodings(String name, Path folder, Path gguf) throws IOException {
        List<String> texts = new ArrayList<>(GgufTokenizerTest.TEXTS);
        try (GgufFile g = GgufFile.open(gguf);
             HfTokenizer want = HfTokenizer.load(folder);
             HfTokenizer got = HfTokenizer.fromGguf(GgufTokenizer.of(g), gguf)) {
            for (JsonObject c : cases(name)) {
                String text = c.get("text").getAsString();
                texts.add(text);
                assertArrayEquals(ids(c, "ids"), got.encode(text), name + " expected.json: " + text);
                if (!text.startsWith("<s>")) {
                    // (a text that starts with BOS gets no second one from encodePrompt, unlike Hugging Face's)
                    assertArrayEquals(ids(c, "ids_with_special_tokens"), got.encodePrompt(text, false),
                            name + " expected.json with special tokens: " + text);
                }
                assertArrayEquals(want.encodePrompt(text, false), got.encodePrompt(text, false), name + ": " + text);
            }
            for (String t : texts) {
                int[] ids = want.encode(t);
                assertArrayEquals(ids, got.encode(t), name + ": " + t);
                assertEquals(want.decode(ids), got.decode(ids), name + " decode: " + t);
            }
        }
    }

    @Test
    void gpt2ThroughGguf() throws IOException {
        Path folder = folder("gpt2");
        Path gguf = dir.resolve("gpt2.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "gpt2");
        GgufTokenizerExport.put(w, folder, 50257);
        w.write(gguf);
        assertSameEncodings("gpt2", folder, gguf);
    }

    /**
     * SentencePiece scores of a BPE {@code model}'s pieces as llama.cpp stores them: a piece made by an earlier merge
     * scores higher; pieces no merge makes score lowest.
     */
    static float[] sentencePieceScores(String[] tokens, JsonObject model) {
        Map<String, Integer> firstRank = new HashMap<>();
        List<JsonElement> merges = model.getAsJsonArray("merges").asList();
        for (int r = 0; r < merges.size(); r++) {
            firstRank.putIfAbsent(merges.get(r).getAsString().replace(" ", ""), r);
        }
        float[] scores = new float[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            Integer r = firstRank.get(tokens[i]);
            scores[i] = r == null ? -1e6f - i : -r;
        }
        return scores;
    }

    @Test
    void mistralSentencePieceThroughGguf() throws IOException {
        Path folder = folder("mistral");
        JsonObject model = JsonParser.parseString(Files.readString(folder.resolve("tokenizer.json"))).getAsJsonObject()
                .getAsJsonObject("model");
        String[] tokens = new String[model.getAsJsonObject("vocab").size()];
        model.getAsJsonObject("vocab").entrySet().forEach(e -> tokens[e.getValue().getAsInt()] = e.getKey());
        float[] scores = sentencePieceScores(tokens, model);
        int[] types = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            types[i] = i == 0 ? GgufTokenizer.UNKNOWN : i <= 2 ? GgufTokenizer.CONTROL
                    : tokens[i].matches("<0x[0-9A-F]{2}>") ? GgufTokenizer.BYTE : GgufTokenizer.NORMAL;
        }
        Path gguf = dir.resolve("mistral.gguf");
        new GgufWriter().putString("general.architecture", "llama").putString("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", Arrays.asList(tokens)).putFloats("tokenizer.ggml.scores", scores)
                .putInts("tokenizer.ggml.token_type", types).putU32("tokenizer.ggml.bos_token_id", 1)
                .putU32("tokenizer.ggml.eos_token_id", 2).putU32("tokenizer.ggml.unknown_token_id", 0)
                .putBool("tokenizer.ggml.add_bos_token", true).write(gguf);
        assertSameEncodings("mistral", folder, gguf);
    }
}
