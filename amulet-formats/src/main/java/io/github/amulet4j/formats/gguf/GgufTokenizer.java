package io.github.amulet4j.formats.gguf;



import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tokenizer of a GGUF file as a Hugging Face {@code tokenizer.json}, built in memory from the
 * {@code tokenizer.ggml.*} metadata the way Hugging Face's own converters build one, and run by
 * the Hugging Face tokenizer (amulet-djl's {@code HfTokenizer}):
 * <ul>
 *   <li>{@code gpt2} (byte-level BPE: Llama 3, Qwen2/2.5/3, GPT-2): the tokens and merges as they are, the
 *       pre-tokenizer of {@code tokenizer.ggml.pre} ({@code gpt-2}/{@code default}: GPT-2's ByteLevel regex;
 *       {@code llama-bpe}: Llama 3's split regex, merges ignored for whole-word tokens; {@code qwen2}: Qwen2's split
 *       regex after NFC);</li>
 *   <li>{@code llama} (SentencePiece: Llama 1/2, Mistral): a BPE model with byte fallback whose merges are derived
 *       from the token scores (every split of a token into two tokens, ranked by the token's score), spaces as
 *       {@code ▁} with one prepended ({@code tokenizer.ggml.add_space_prefix}, default true), {@code <0xNN>}
 *       byte tokens decoded back to bytes.</li>
 * </ul>
 * Control tokens (type 3) and user-defined tokens (type 4) become added tokens, special and not special; the
 * special token strings, {@code add_bos_token} and the chat template go to the {@link TokenizerConfig}.
 */
public final class GgufTokenizer {

    /** GGUF token types. */
    public static final int NORMAL = 1;
    public static final int UNKNOWN = 2;
    public static final int CONTROL = 3;
    public static final int USER_DEFINED = 4;
    public static final int UNUSED = 5;
    public static final int BYTE = 6;

    /** Llama 3's pre-tokenizer regex ({@code llama-bpe}). */
    public static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's pre-tokenizer regex ({@code qwen2}): digits one by one. */
    public static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The {@code tokenizer.ggml.pre} values read, by the pre-tokenizer they mean. */
    public static final Set<String> GPT2_PRE = Set.of("gpt-2", "default");
    public static final Set<String> LLAMA3_PRE = Set.of("llama-bpe", "llama3");
    public static final Set<String> QWEN2_PRE = Set.of("qwen2", "deepseek-r1-qwen");

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final String json;
    private final TokenizerConfig config;

    private GgufTokenizer(String json, TokenizerConfig config) {
        this.json = json;
        this.config = config;
    }

    /**
     * Builds the tokenizer of a GGUF file.
     *
     * @throws GgufFormatException naming the file and the key for a missing, mistyped or unsupported tokenizer
     */
    public static GgufTokenizer of(GgufFile file) {
        GgufMetadata m = file.metadata();
        String src = file.path().toString();
        String model = m.string("tokenizer.ggml.model");
        String[] tokens = m.strings("tokenizer.ggml.tokens");
        int[] types = m.has("tokenizer.ggml.token_type") ? m.ints("tokenizer.ggml.token_type") : null;
        if (types != null && types.length != tokens.length) {
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.token_type' has " + types.length
                    + " entries for " + tokens.length + " tokens");
        }
        if (types != null) {
            // llama.cpp pads the token list to the embedding's rows with unused [PAD] tokens; the tokenizer has none
            int n = tokens.length;
            while (n > 1 && types[n - 1] == UNUSED) {
                n--;
            }
            tokens = java.util.Arrays.copyOf(tokens, n);
            types = java.util.Arrays.copyOf(types, n);
        }
        JsonObject root;
        boolean spm;
        switch (model) {
            case "gpt2" -> {
                root = byteLevelBpe(m, src, tokens, types);
                spm = false;
            }
            case "llama" -> {
                root = sentencePiece(m, src, tokens, types);
                spm = true;
            }
            default -> throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.model' is '" + model
                    + "'; supported: gpt2 (byte-level BPE), llama (SentencePiece)");
        }
        if (spm && "phi3".equals(m.optString("general.architecture", ""))) {
            rstripPhi3Specials(root.getAsJsonArray("added_tokens"));
        }
        TokenizerConfig.Builder c = TokenizerConfig.builder()
                .bosToken(token(m, src, tokens, "tokenizer.ggml.bos_token_id"))
                .eosToken(token(m, src, tokens, "tokenizer.ggml.eos_token_id"))
                .padToken(token(m, src, tokens, "tokenizer.ggml.padding_token_id"))
                .unkToken(token(m, src, tokens, "tokenizer.ggml.unknown_token_id"))
                .addBosToken(m.optBool("tokenizer.ggml.add_bos_token", spm))
                .addEosToken(m.optBool("tokenizer.ggml.add_eos_token", false));
        for (String key : m.keys()) {
            if (key.equals("tokenizer.chat_template")) {
                c.chatTemplate(m.string(key));
            } else if (key.startsWith("tokenizer.chat_template.")) {
                c.chatTemplate(key.substring("tokenizer.chat_template.".length()), m.string(key));
            }
        }
        return new GgufTokenizer(GSON.toJson(root), c.build());
    }

    /** The tokenizer as {@code tokenizer.json} text. */
    public String json() {
        return json;
    }

    /** The special tokens, {@code add_bos_token} and chat templates. */
    public TokenizerConfig config() {
        return config;
    }


    private static String token(GgufMetadata m, String src, String[] tokens, String key) {
        Integer id = m.optNonNegativeInt(key);
        if (id == null) {
            return null;
        }
        if (id >= tokens.length) {
            throw new GgufFormatException(src + ": metadata '" + key + "' is " + id + ", outside the "
                    + tokens.length + " tokens");
        }
        return tokens[id];
    }

    private static int type(int[] types, int id) {
        return types == null ? NORMAL : types[id];
    }

    private static JsonObject byteLevelBpe(GgufMetadata m, String src, String[] tokens, int[] types) {
        String pre = m.optString("tokenizer.ggml.pre", "default");
        JsonObject root = base();
        JsonObject bpe = bpeModel(tokens, m.has("tokenizer.ggml.merges") ? m.strings("tokenizer.ggml.merges")
                : new String[0], false, null);
        root.add("added_tokens", addedTokens(tokens, types, false));
        if (GPT2_PRE.contains(pre)) {
            root.add("pre_tokenizer", byteLevel(true));
        } else if (LLAMA3_PRE.contains(pre)) {
            root.add("pre_tokenizer", sequence(split(LLAMA3_REGEX), byteLevel(false)));
            bpe.addProperty("ignore_merges", true);
        } else if (QWEN2_PRE.contains(pre)) {
            JsonObject nfc = new JsonObject();
            nfc.addProperty("type", "NFC");
            root.add("normalizer", nfc);
            root.add("pre_tokenizer", sequence(split(QWEN2_REGEX), byteLevel(false)));
        } else {
            Set<String> known = new TreeSet<>(GPT2_PRE);
            known.addAll(LLAMA3_PRE);
            known.addAll(QWEN2_PRE);
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.pre' is '" + pre
                    + "', a pre-tokenizer this library does not reproduce; supported: " + known);
        }
        root.add("post_processor", byteLevel(false));
        root.add("decoder", byteLevel(false));
        root.add("model", bpe);
        return root;
    }

    private static JsonObject sentencePiece(GgufMetadata m, String src, String[] tokens, int[] types) {
        float[] scores = m.floats("tokenizer.ggml.scores");
        if (scores.length < tokens.length) {
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.scores' has " + scores.length
                    + " entries for " + tokens.length + " tokens");
        }
        Integer unkId = m.optNonNegativeInt("tokenizer.ggml.unknown_token_id");
        String unk = null;
        if (unkId != null && unkId < tokens.length) {
            unk = tokens[unkId];
        } else if (types != null) {
            for (int i = 0; i < tokens.length && unk == null; i++) {
                if (types[i] == UNKNOWN) {
                    unk = tokens[i];
                }
            }
        }
        JsonObject root = base();
        root.add("added_tokens", addedTokens(tokens, types, true));
        JsonArray norm = new JsonArray();
        if (m.optBool("tokenizer.ggml.add_space_prefix", true)) {
            JsonObject prepend = new JsonObject();
            prepend.addProperty("type", "Prepend");
            prepend.addProperty("prepend", "▁");
            norm.add(prepend);
        }
        norm.add(replace(" ", "▁"));
        JsonObject normalizer = new JsonObject();
        normalizer.addProperty("type", "Sequence");
        normalizer.add("normalizers", norm);
        root.add("normalizer", normalizer);
        root.add("pre_tokenizer", com.google.gson.JsonNull.INSTANCE);
        root.add("post_processor", com.google.gson.JsonNull.INSTANCE);
        JsonArray dec = new JsonArray();
        dec.add(replace("▁", " "));
        dec.add(typeOnly("ByteFallback"));
        dec.add(typeOnly("Fuse"));
        JsonObject strip = new JsonObject();
        strip.addProperty("type", "Strip");
        strip.addProperty("content", " ");
        strip.addProperty("start", 1);
        strip.addProperty("stop", 0);
        dec.add(strip);
        JsonObject decoder = new JsonObject();
        decoder.addProperty("type", "Sequence");
        decoder.add("decoders", dec);
        root.add("decoder", decoder);
        root.add("model", bpeModel(tokens, mergesFromScores(tokens, scores, types), true, unk));
        return root;
    }

    /**
     * Merges of a SentencePiece vocabulary as Hugging Face's {@code SentencePieceExtractor} derives them: for each
     * token (in id order), every split into two tokens of the vocabulary (ordered by the ids of the left, then
     * the right part), all ranked by the score of the whole token, highest first (ties keep that order).
     */
    static String[] mergesFromScores(String[] tokens, float[] scores, int[] types) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            if (mergeable(types, i)) {
                ids.putIfAbsent(tokens[i], i);
            }
        }
        record Merge(int left, int right, float score, long order) {
        }
        List<Merge> merges = new ArrayList<>();
        long order = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (!mergeable(types, i) || ids.get(tokens[i]) != i) {
                continue;
            }
            String t = tokens[i];
            List<Merge> local = new ArrayList<>();
            for (int k = t.offsetByCodePoints(0, 1); k < t.length(); k = t.offsetByCodePoints(k, 1)) {
                Integer l = ids.get(t.substring(0, k));
                Integer r = ids.get(t.substring(k));
                if (l != null && r != null) {
                    local.add(new Merge(l, r, scores[i], 0));
                }
            }
            local.sort(Comparator.comparingInt(Merge::left).thenComparingInt(Merge::right));
            for (Merge x : local) {
                merges.add(new Merge(x.left(), x.right(), x.score(), order++));
            }
        }
        merges.sort(Comparator.comparingDouble((Merge x) -> -x.score()).thenComparingLong(Merge::order));
        String[] out = new String[merges.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokens[merges.get(i).left()] + " " + tokens[merges.get(i).right()];
        }
        return out;
    }

    private static boolean mergeable(int[] types, int id) {
        int t = type(types, id);
        return t == NORMAL || t == USER_DEFINED;
    }

    private static JsonObject base() {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", com.google.gson.JsonNull.INSTANCE);
        root.add("padding", com.google.gson.JsonNull.INSTANCE);
        root.add("normalizer", com.google.gson.JsonNull.INSTANCE);
        return root;
    }

    /**
     * The special tokens of a Phi-3 / Phi-3.5 SentencePiece vocabulary (architecture {@code phi3}; Phi-4-mini's
     * byte-level vocabulary is left alone) take the whitespace after them ({@code rstrip}), as its
     * {@code tokenizer.json} says and llama.cpp sets for a file named like a Phi-3 model, except {@code <unk>},
     * {@code <s>} and {@code <|endoftext|>}: so
     * {@code "<|user|>\nHi"} tokenizes as {@code <|user|>, ▁Hi} from a GGUF file as from the folder.
     */
    private static void rstripPhi3Specials(JsonArray added) {
        java.util.Set<String> keep = java.util.Set.of("<unk>", "<s>", "<|endoftext|>");
        for (com.google.gson.JsonElement e : added) {
            JsonObject o = e.getAsJsonObject();
            if (o.get("special").getAsBoolean() && !keep.contains(o.get("content").getAsString())) {
                o.addProperty("rstrip", true);
            }
        }
    }

    private static JsonArray addedTokens(String[] tokens, int[] types, boolean unknownIsSpecial) {
        JsonArray a = new JsonArray();
        for (int i = 0; i < tokens.length; i++) {
            int t = type(types, i);
            if (t == CONTROL || t == USER_DEFINED || (unknownIsSpecial && t == UNKNOWN)) {
                JsonObject o = new JsonObject();
                o.addProperty("id", i);
                o.addProperty("content", tokens[i]);
                o.addProperty("single_word", false);
                o.addProperty("lstrip", false);
                o.addProperty("rstrip", false);
                o.addProperty("normalized", false);
                o.addProperty("special", t != USER_DEFINED);
                a.add(o);
            }
        }
        return a;
    }

    private static JsonObject bpeModel(String[] tokens, String[] merges, boolean byteFallback, String unk) {
        JsonObject bpe = new JsonObject();
        bpe.addProperty("type", "BPE");
        bpe.add("dropout", com.google.gson.JsonNull.INSTANCE);
        if (unk == null) {
            bpe.add("unk_token", com.google.gson.JsonNull.INSTANCE);
        } else {
            bpe.addProperty("unk_token", unk);
        }
        bpe.add("continuing_subword_prefix", com.google.gson.JsonNull.INSTANCE);
        bpe.add("end_of_word_suffix", com.google.gson.JsonNull.INSTANCE);
        bpe.addProperty("fuse_unk", byteFallback);
        bpe.addProperty("byte_fallback", byteFallback);
        JsonObject vocab = new JsonObject();
        for (int i = 0; i < tokens.length; i++) {
            if (!vocab.has(tokens[i])) {
                vocab.addProperty(tokens[i], i);
            }
        }
        bpe.add("vocab", vocab);
        JsonArray ms = new JsonArray();
        for (String x : merges) {
            ms.add(x);
        }
        bpe.add("merges", ms);
        return bpe;
    }

    private static JsonObject byteLevel(boolean useRegex) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", false);
        o.addProperty("trim_offsets", true);
        o.addProperty("use_regex", useRegex);
        return o;
    }

    private static JsonObject split(String regex) {
        JsonObject pattern = new JsonObject();
        pattern.addProperty("Regex", regex);
        JsonObject o = new JsonObject();
        o.addProperty("type", "Split");
        o.add("pattern", pattern);
        o.addProperty("behavior", "Isolated");
        o.addProperty("invert", false);
        return o;
    }

    private static JsonObject sequence(JsonObject... items) {
        JsonArray a = new JsonArray();
        for (JsonObject i : items) {
            a.add(i);
        }
        JsonObject o = new JsonObject();
        o.addProperty("type", "Sequence");
        o.add("pretokenizers", a);
        return o;
    }

    private static JsonObject replace(String from, String to) {
        JsonObject pattern = new JsonObject();
        pattern.addProperty("String", from);
        JsonObject o = new JsonObject();
        o.addProperty("type", "Replace");
        o.add("pattern", pattern);
        o.addProperty("content", to);
        return o;
    }

    private static JsonObject typeOnly(String type) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        return o;
    }
}
