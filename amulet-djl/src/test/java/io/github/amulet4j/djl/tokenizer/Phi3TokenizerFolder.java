package io.github.amulet4j.djl.tokenizer;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model folder laid out as microsoft/Phi-3.5-mini-instruct's, without weights: a SentencePiece-style BPE
 * {@code tokenizer.json} with byte fallback (the Llama layout: Prepend + Replace normaliser, ByteFallback decoder;
 * the vocabulary and merges of the Mistral test tokenizer, which is that same layout) with Phi-3's added special
 * tokens at ids 32000 to 32010 (all but {@code <|endoftext|>} with {@code rstrip}, as Phi-3's), its {@code tokenizer_config.json} fields and real chat template (the jinja fixture),
 * {@code generation_config.json}'s three stop ids and a tiny Phi-3 {@code config.json}.
 */
public final class Phi3TokenizerFolder {

    /** Phi-3's added tokens, ids 32000 onwards. */
    public static final List<String> ADDED = List.of("<|endoftext|>", "<|assistant|>", "<|placeholder1|>",
            "<|placeholder2|>", "<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>",
            "<|placeholder6|>", "<|user|>");
    /**
     * The chat template of microsoft/Phi-3.5-mini-instruct, as amulet-jinja's fixture
     * {@code real_phi35_mini_instruct.jinja} holds it ({@link Phi3TokenizerTest} checks that they are equal).
     */
    public static final String PHI35_CHAT_TEMPLATE = "{% for message in messages %}{% if message['role'] == 'system'"
            + " and message['content'] %}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role']"
            + " == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant'"
            + " %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}{% if"
            + " add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";
    /** {@code <|end|>}, {@code <|assistant|>}, {@code <|endoftext|>}: generation_config.json's eos_token_id. */
    public static final List<Integer> STOP_IDS = List.of(32007, 32001, 32000);

    private Phi3TokenizerFolder() {
    }

    /** Writes the folder {@code into/name} and returns it. */
    public static Path write(Path into, String name) throws IOException {
        Path folder = RealTokenizersTest.unpack("mistral", into.resolve(name + "-src"));
        Path out = Files.createDirectories(into.resolve(name));
        JsonObject tok = JsonParser.parseString(Files.readString(folder.resolve("tokenizer.json"))).getAsJsonObject();
        JsonArray added = tok.getAsJsonArray("added_tokens");
        for (int i = 0; i < ADDED.size(); i++) {
            JsonObject t = new JsonObject();
            t.addProperty("id", 32000 + i);
            t.addProperty("content", ADDED.get(i));
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            // as Phi-3's tokenizer.json: every added token but <|endoftext|> takes the whitespace after it
            t.addProperty("rstrip", i > 0);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        tok.add("post_processor", null); // Phi-3.5's tokenizer adds no BOS
        write(out.resolve("tokenizer.json"), tok);
        JsonObject config = new JsonObject();
        config.addProperty("add_bos_token", false);
        config.addProperty("add_eos_token", false);
        config.addProperty("bos_token", "<s>");
        config.addProperty("eos_token", "<|endoftext|>");
        config.addProperty("pad_token", "<|endoftext|>");
        config.addProperty("unk_token", "<unk>");
        config.addProperty("legacy", false);
        config.addProperty("model_max_length", 131072);
        config.addProperty("tokenizer_class", "LlamaTokenizer");
        config.addProperty("chat_template", PHI35_CHAT_TEMPLATE);
        write(out.resolve("tokenizer_config.json"), config);
        Files.writeString(out.resolve("generation_config.json"),
                "{\"bos_token_id\": 1, \"eos_token_id\": [32007, 32001, 32000], \"pad_token_id\": 32000}\n");
        Files.writeString(out.resolve("config.json"), "{\"architectures\": [\"Phi3ForCausalLM\"], \"model_type\": \"phi3\","
                + " \"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"intermediate_size\": 96,"
                + " \"vocab_size\": 32064, \"max_position_embeddings\": 256, \"bos_token_id\": 1,"
                + " \"eos_token_id\": 32000}\n");
        return out;
    }

    private static void write(Path file, JsonObject o) throws IOException {
        Files.writeString(file, new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(o),
                StandardCharsets.UTF_8);
    }
}
