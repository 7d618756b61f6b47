package io.github.amulet4j.formats.gguf;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face byte-level BPE tokenizer ({@code tokenizer.json} and {@code tokenizer_config.json} of a
 * model folder) as GGUF {@code tokenizer.ggml.*} metadata, as llama.cpp's converter does for {@code gpt2}-model
 * vocabularies: tokens by id padded with unused {@code [PADn]} tokens to the embedding's rows, token types
 * (special added tokens as control, other added tokens as user-defined), merges, the pre-tokenizer name
 * ({@code gpt-2}, {@code llama-bpe} or {@code qwen2}, recognised from the pre-tokenizer), special token ids,
 * {@code add_bos_token} and the chat template.
 */
public final class GgufTokenizerExport {

    private GgufTokenizerExport() {
    }

    /**
     * Adds the tokenizer of {@code folder} to {@code writer}.
     *
     * @param vocabSize the model's embedding rows (the token list is padded to it)
     * @throws IllegalArgumentException naming the file when the tokenizer is not a byte-level BPE of a known kind
     */
    public static void put(GgufWriter writer, Path folder, int vocabSize) throws IOException {
        Path file = folder.resolve("tokenizer.json");
        JsonObject root = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        JsonObject model = root.getAsJsonObject("model");
        if (!"BPE".equals(model.get("type").getAsString())
                || (model.has("byte_fallback") && model.get("byte_fallback").getAsBoolean())) {
            throw new IllegalArgumentException(file + ": only byte-level BPE tokenizers are written to GGUF");
        }
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet()) {
            set(tokens, types, e.getValue().getAsInt(), e.getKey(), GgufTokenizer.NORMAL);
        }
        if (root.has("added_tokens") && root.get("added_tokens").isJsonArray()) {
            for (JsonElement a : root.getAsJsonArray("added_tokens")) {
                JsonObject o = a.getAsJsonObject();
                boolean special = !o.has("special") || o.get("special").getAsBoolean();
                set(tokens, types, o.get("id").getAsInt(), o.get("content").getAsString(),
                        special ? GgufTokenizer.CONTROL : GgufTokenizer.USER_DEFINED);
            }
        }
        for (int i = 0; i < Math.max(vocabSize, tokens.size()); i++) {
            if (i >= tokens.size() || tokens.get(i) == null) {
                set(tokens, types, i, "[PAD" + i + "]", GgufTokenizer.UNUSED);
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonElement m : model.getAsJsonArray("merges")) {
            if (m.isJsonArray()) {
                JsonArray pair = m.getAsJsonArray();
                merges.add(pair.get(0).getAsString() + " " + pair.get(1).getAsString());
            } else {
                merges.add(m.getAsString());
            }
        }
        writer.putString("tokenizer.ggml.model", "gpt2");
        writer.putString("tokenizer.ggml.pre", preTokenizer(root, file));
        writer.putStrings("tokenizer.ggml.tokens", tokens);
        writer.putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
        writer.putStrings("tokenizer.ggml.merges", merges);
        TokenizerConfig config = TokenizerConfig.readFolder(folder);
        putId(writer, "tokenizer.ggml.bos_token_id", config.bosToken(), tokens);
        putId(writer, "tokenizer.ggml.eos_token_id", config.eosToken(), tokens);
        putId(writer, "tokenizer.ggml.padding_token_id", config.padToken(), tokens);
        putId(writer, "tokenizer.ggml.unknown_token_id", config.unkToken(), tokens);
        writer.putBool("tokenizer.ggml.add_bos_token", Boolean.TRUE.equals(config.addBosToken()));
        if (config.chatTemplate() != null) {
            writer.putString("tokenizer.chat_template", config.chatTemplate());
        }
    }

    private static void set(List<String> tokens, List<Integer> types, int id, String token, int type) {
        while (tokens.size() <= id) {
            tokens.add(null);
            types.add(GgufTokenizer.UNUSED);
        }
        tokens.set(id, token);
        types.set(id, type);
    }

    private static void putId(GgufWriter w, String key, String token, List<String> tokens) {
        if (token != null && tokens.contains(token)) {
            w.putU32(key, tokens.indexOf(token));
        }
    }

    /** The {@code tokenizer.ggml.pre} name of a tokenizer.json's pre-tokenizer. */
    static String preTokenizer(JsonObject root, Path file) {
        JsonElement pre = root.get("pre_tokenizer");
        String text = pre == null ? "null" : pre.toString();
        if (pre != null && pre.isJsonObject() && "ByteLevel".equals(pre.getAsJsonObject().get("type").getAsString())
                && pre.getAsJsonObject().get("use_regex").getAsBoolean()) {
            return "gpt-2";
        }
        for (String[] known : Arrays.asList(new String[] {GgufTokenizer.LLAMA3_REGEX, "llama-bpe"},
                new String[] {GgufTokenizer.QWEN2_REGEX, "qwen2"})) {
            JsonObject regex = new JsonObject();
            regex.addProperty("Regex", known[0]);
            if (text.contains(regex.toString())) {
                return known[1];
            }
        }
        throw new IllegalArgumentException(file + ": pre_tokenizer " + (text.length() > 200 ? text.substring(0, 200)
                + "..." : text) + " is none of GPT-2's, Llama 3's or Qwen2's");
    }
}
