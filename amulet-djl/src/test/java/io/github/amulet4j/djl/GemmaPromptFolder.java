package io.github.amulet4j.djl;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Gemma model folder without weights, for the prompt side: a tiny Gemma 2 or Gemma 3 {@code config.json}, a
 * hand-made {@code tokenizer.json} of the shape Gemma's has (a BPE model over the whole text with no pre-tokenizer,
 * spaces turned into {@code ▁} by the normalizer and no dummy prefix, byte fallback through {@code <0x00>} to
 * {@code <0xFF>}, a decoder of Replace, ByteFallback and Fuse; {@code <pad>}, {@code <eos>}, {@code <bos>},
 * {@code <unk>} at ids 0 to 3) and a {@code tokenizer_config.json} with the real chat template of gemma-2-2b-it or
 * gemma-3-1b-it (the amulet-jinja fixtures).
 */
public final class GemmaPromptFolder {

    /** Ids of the special and byte tokens. */
    public static final int PAD = 0;
    public static final int EOS = 1;
    public static final int BOS = 2;
    public static final int UNK = 3;
    /** The id of byte token {@code <0x00>}; byte b is {@code BYTE0 + b}. */
    public static final int BYTE0 = 4;

    /** The merges in rank order; each makes the token of its two parts joined. */
    public static final List<String> MERGES = List.of("H e", "l l", "He ll", "Hell o", "▁ w", "o r", "▁w or",
            "▁wor l", "▁worl d");
    /** The single characters of the vocabulary (every other character falls back to its UTF-8 bytes). */
    public static final List<String> CHARS = List.of("▁", "H", "e", "l", "o", "w", "r", "d");

    private GemmaPromptFolder() {
    }

    /** The vocabulary: specials, the 256 byte tokens, the characters, the merged tokens, then the turn markers. */
    public static Map<String, Integer> vocabulary() {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (String s : List.of("<pad>", "<eos>", "<bos>", "<unk>")) {
            v.put(s, v.size());
        }
        for (int b = 0; b < 256; b++) {
            v.put(String.format("<0x%02X>", b), v.size());
        }
        for (String c : CHARS) {
            v.put(c, v.size());
        }
        for (String m : MERGES) {
            v.put(m.replace(" ", ""), v.size());
        }
        v.put("<start_of_turn>", v.size());
        v.put("<end_of_turn>", v.size());
        return v;
    }

    /** The id of {@code token} in {@link #vocabulary()}. */
    public static int id(String token) {
        Integer id = vocabulary().get(token);
        if (id == null) {
            throw new IllegalArgumentException("no token " + token);
        }
        return id;
    }

    /**
     * Writes the folder.
     *
     * @param gemma3 Gemma 3 (gemma-3-1b-it's template) or Gemma 2 (gemma-2-2b-it's)
     */
    public static Path write(Path folder, boolean gemma3) throws IOException {
        Files.createDirectories(folder);
        Gson gson = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
        Map<String, Integer> vocab = vocabulary();
        JsonObject config = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add(gemma3 ? "Gemma3ForCausalLM" : "Gemma2ForCausalLM");
        config.add("architectures", arch);
        config.addProperty("model_type", gemma3 ? "gemma3_text" : "gemma2");
        config.addProperty("hidden_size", 32);
        config.addProperty("num_hidden_layers", 2);
        config.addProperty("num_attention_heads", 2);
        config.addProperty("num_key_value_heads", 1);
        config.addProperty("head_dim", 16);
        config.addProperty("intermediate_size", 64);
        config.addProperty("vocab_size", vocab.size());
        config.addProperty("bos_token_id", BOS);
        JsonArray eos = new JsonArray();
        eos.add(EOS);
        eos.add(id("<end_of_turn>"));
        config.add("eos_token_id", eos);
        Files.writeString(folder.resolve("config.json"), gson.toJson(config));
        Files.writeString(folder.resolve("tokenizer.json"), gson.toJson(tokenizer(vocab)));
        JsonObject tc = new JsonObject();
        tc.addProperty("bos_token", "<bos>");
        tc.addProperty("eos_token", "<eos>");
        tc.addProperty("pad_token", "<pad>");
        tc.addProperty("unk_token", "<unk>");
        tc.addProperty("add_bos_token", true);
        tc.addProperty("add_eos_token", false);
        tc.addProperty("chat_template", template(gemma3));
        Files.writeString(folder.resolve("tokenizer_config.json"), gson.toJson(tc));
        return folder;
    }

    /** The real chat template of gemma-3-1b-it or gemma-2-2b-it, from amulet-jinja's fixtures. */
    public static String template(boolean gemma3) throws IOException {
        String name = "/templates/cases/" + (gemma3 ? "gemma3_1b_it" : "gemma2_2b_it") + ".jinja";
        try (InputStream in = GemmaPromptFolder.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name + " (amulet-jinja's test jar)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static JsonObject tokenizer(Map<String, Integer> vocab) {
        JsonObject t = new JsonObject();
        t.addProperty("version", "1.0");
        t.add("truncation", null);
        t.add("padding", null);
        JsonArray added = new JsonArray();
        for (String s : List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>")) {
            JsonObject a = new JsonObject();
            a.addProperty("id", vocab.get(s));
            a.addProperty("content", s);
            a.addProperty("single_word", false);
            a.addProperty("lstrip", false);
            a.addProperty("rstrip", false);
            a.addProperty("normalized", false);
            a.addProperty("special", true);
            added.add(a);
        }
        t.add("added_tokens", added);
        JsonObject normalizer = new JsonObject();
        normalizer.addProperty("type", "Replace");
        JsonObject space = new JsonObject();
        space.addProperty("String", " ");
        normalizer.add("pattern", space);
        normalizer.addProperty("content", "▁");
        t.add("normalizer", normalizer);
        t.add("pre_tokenizer", null);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", null);
        model.addProperty("unk_token", "<unk>");
        model.add("continuing_subword_prefix", null);
        model.add("end_of_word_suffix", null);
        model.addProperty("fuse_unk", true);
        model.addProperty("byte_fallback", true);
        JsonObject v = new JsonObject();
        vocab.forEach(v::addProperty);
        model.add("vocab", v);
        JsonArray merges = new JsonArray();
        MERGES.forEach(merges::add);
        model.add("merges", merges);
        t.add("model", model);
        JsonObject single = new JsonObject();
        single.addProperty("type", "TemplateProcessing");
        JsonArray seq = new JsonArray();
        JsonObject bos = new JsonObject();
        JsonObject bosToken = new JsonObject();
        bosToken.addProperty("id", "<bos>");
        bosToken.addProperty("type_id", 0);
        bos.add("SpecialToken", bosToken);
        seq.add(bos);
        JsonObject a = new JsonObject();
        JsonObject aSeq = new JsonObject();
        aSeq.addProperty("id", "A");
        aSeq.addProperty("type_id", 0);
        a.add("Sequence", aSeq);
        seq.add(a);
        single.add("single", seq);
        single.add("pair", seq);
        JsonObject specials = new JsonObject();
        JsonObject bosSpecial = new JsonObject();
        bosSpecial.addProperty("id", "<bos>");
        JsonArray bosIds = new JsonArray();
        bosIds.add(BOS);
        bosSpecial.add("ids", bosIds);
        JsonArray bosTokens = new JsonArray();
        bosTokens.add("<bos>");
        bosSpecial.add("tokens", bosTokens);
        specials.add("<bos>", bosSpecial);
        single.add("special_tokens", specials);
        t.add("post_processor", single);
        JsonObject decoder = new JsonObject();
        decoder.addProperty("type", "Sequence");
        JsonArray decoders = new JsonArray();
        JsonObject replace = new JsonObject();
        replace.addProperty("type", "Replace");
        JsonObject mark = new JsonObject();
        mark.addProperty("String", "▁");
        replace.add("pattern", mark);
        replace.addProperty("content", " ");
        decoders.add(replace);
        JsonObject byteFallback = new JsonObject();
        byteFallback.addProperty("type", "ByteFallback");
        decoders.add(byteFallback);
        JsonObject fuse = new JsonObject();
        fuse.addProperty("type", "Fuse");
        decoders.add(fuse);
        decoder.add("decoders", decoders);
        t.add("decoder", decoder);
        return t;
    }
}
