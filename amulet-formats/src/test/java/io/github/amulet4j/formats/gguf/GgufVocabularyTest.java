package io.github.amulet4j.formats.gguf;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.formats.tokenizer.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link GgufTokenizer#vocabulary()}, read from the file's strings as asked, gives the ids and token strings of the
 * {@code tokenizer.json} the same metadata makes (its {@code model.vocab} and {@code added_tokens}, parsed here with
 * Gson): a token listed twice has its first id unless it is an added token, the [PAD] tokens llama.cpp appends are
 * not ids, and the order of the lookups (an added token first, a normal one first) does not matter.
 */
class GgufVocabularyTest {

    @TempDir
    Path dir;

    @Test
    void idsAndTokensAreThoseOfTheTokenizerJson() throws IOException {
        for (boolean addedFirst : new boolean[] {true, false}) {
            Path f = dir.resolve("vocab-" + addedFirst + ".gguf");
            List<String> tokens = new ArrayList<>();
            List<Integer> types = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                tokens.add(i % 50 == 7 ? "dup" + (i % 3) : "t" + i + (i % 11 == 0 ? "é▁" : ""));
                types.add(GgufTokenizer.NORMAL);
            }
            tokens.add("t5");                 // a normal token listed twice: keeps its first id
            types.add(GgufTokenizer.NORMAL);
            tokens.add("<|end|>");            // control: special added token
            types.add(GgufTokenizer.CONTROL);
            tokens.add("t9");                 // an added token whose string is also a normal one: its own id
            types.add(GgufTokenizer.USER_DEFINED);
            tokens.add("<|start|>");
            types.add(GgufTokenizer.CONTROL);
            for (int i = 0; i < 5; i++) {     // llama.cpp's padding to the embedding's rows
                tokens.add("[PAD" + i + "]");
                types.add(GgufTokenizer.UNUSED);
            }
            new GgufWriter().putString("tokenizer.ggml.model", "gpt2")
                    .putStrings("tokenizer.ggml.tokens", tokens)
                    .putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray())
                    .putStrings("tokenizer.ggml.merges", List.of("t 1"))
                    .putU32("tokenizer.ggml.bos_token_id", 303)
                    .putU32("tokenizer.ggml.eos_token_id", 301)
                    .write(f);
            try (GgufFile g = GgufFile.open(f)) {
                GgufTokenizer t = GgufTokenizer.of(g);
                Vocabulary v = t.vocabulary();
                JsonObject json = JsonParser.parseString(t.json()).getAsJsonObject();
                Map<String, Integer> want = new HashMap<>();
                for (Map.Entry<String, JsonElement> e : json.getAsJsonObject("model").getAsJsonObject("vocab")
                        .entrySet()) {
                    want.put(e.getKey(), e.getValue().getAsInt());
                }
                for (JsonElement a : json.getAsJsonArray("added_tokens")) {
                    want.put(a.getAsJsonObject().get("content").getAsString(), a.getAsJsonObject().get("id").getAsInt());
                }
                if (addedFirst) {
                    assertEquals(301, v.id("<|end|>"));
                    assertEquals(303, v.id(t.config().bosToken()));
                }
                assertEquals(304, v.size(), "the [PAD] tokens are not ids");
                for (Map.Entry<String, Integer> e : want.entrySet()) {
                    assertEquals(e.getValue(), v.id(e.getKey()), "id of " + e.getKey());
                }
                assertEquals(5, v.id("t5"));
                assertEquals(302, v.id("t9"), "an added token has its own id");
                assertEquals(7, v.id("dup1"));
                assertEquals(-1, v.id("[PAD0]"));
                assertEquals(-1, v.id("absent"));
                assertEquals(-1, v.id(null));
                for (int id = 0; id < v.size(); id++) {
                    assertEquals(tokens.get(id), v.token(id), "token " + id);
                }
                assertNull(v.token(-1));
                assertNull(v.token(v.size()));
                assertEquals("<|start|>", t.config().bosToken());
                assertEquals("<|end|>", t.config().eosToken());
            }
        }
    }
}
