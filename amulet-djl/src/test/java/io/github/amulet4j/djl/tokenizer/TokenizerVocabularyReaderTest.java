package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streaming vocabulary reader against the same ids taken from a parsed JSON tree. */
class TokenizerVocabularyReaderTest {

    private static final Path SRC = Path.of("mem/tokenizer.json");

    /** Token ids the way a JSON tree gives them: vocabulary (map or list), then the added tokens over it. */
    private static Map<String, Integer> treeIds(String json, Set<Integer> special) {
        JsonObject root = JsonParser.parseString(json).getAsJsonObject();
        Map<String, Integer> ids = new HashMap<>();
        JsonElement vocab = root.getAsJsonObject("model").get("vocab");
        if (vocab.isJsonObject()) {
            vocab.getAsJsonObject().entrySet().forEach(e -> ids.put(e.getKey(), e.getValue().getAsInt()));
        } else {
            for (int i = 0; i < vocab.getAsJsonArray().size(); i++) {
                ids.put(vocab.getAsJsonArray().get(i).getAsJsonArray().get(0).getAsString(), i);
            }
        }
        if (root.has("added_tokens")) {
            for (JsonElement a : root.getAsJsonArray("added_tokens")) {
                JsonObject o = a.getAsJsonObject();
                ids.put(o.get("content").getAsString(), o.get("id").getAsInt());
                if (!o.has("special") || o.get("special").getAsBoolean()) {
                    special.add(o.get("id").getAsInt());
                }
            }
        }
        return ids;
    }

    private static void check(String json, int wantMax) throws IOException {
        Map<String, Integer> got = new HashMap<>();
        Set<Integer> gotSpecial = new HashSet<>();
        int max = TokenizerVocabularyReader.read(new StringReader(json), SRC, got, gotSpecial);
        Set<Integer> wantSpecial = new HashSet<>();
        assertEquals(treeIds(json, wantSpecial), got);
        assertEquals(wantSpecial, gotSpecial);
        assertEquals(wantMax, max);
    }

    @Test
    void addedTokensBeforeTheModelOverrideItsVocabulary() throws IOException {
        check("{\"version\":\"1.0\",\"added_tokens\":[{\"id\":3,\"content\":\"<s>\",\"special\":true,\"rstrip\":null},"
                + "{\"id\":7,\"content\":\"b\",\"special\":false},{\"id\":9,\"content\":\"<x>\"}],"
                + "\"normalizer\":{\"type\":\"NFC\",\"nested\":[1,[2,{\"vocab\":{}}]]},"
                + "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\\\"d\":2,\"<s>\":5},\"merges\":[\"a b\",[\"a\",\"c\"]]}}",
                9);
    }

    @Test
    void unigramListsGiveIdsByPosition() throws IOException {
        check("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"▁a\",-1.5],[\"b\",-2e3]]},"
                + "\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true}]}", 2);
    }

    @Test
    void errorsNameTheSourceAndField() {
        for (String[] c : new String[][] {
                {"[1]", "expected an object"},
                {"{\"model\": 3}", "'model'"},
                {"{\"model\": {\"type\": \"BPE\"}}", "'model.vocab'"},
                {"{\"model\": {\"vocab\": {\"a\": 1.5}}}", "'model.vocab.a' must be an integer"},
                {"{\"model\": {\"vocab\": {\"a\": \"x\"}}}", "'model.vocab.a' must be an integer"},
                {"{\"model\": {\"vocab\": [\"a\"]}}", "[piece, score]"},
                {"{\"added_tokens\": [{\"id\": 1}], \"model\": {\"vocab\": {}}}", "without 'content'"},
                {"{\"model\": ", "not valid JSON"}}) {
            TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                    () -> TokenizerVocabularyReader.read(new StringReader(c[0]), SRC, new HashMap<>(), new HashSet<>()));
            assertTrue(e.getMessage().contains(SRC.toString()) && e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }
}
