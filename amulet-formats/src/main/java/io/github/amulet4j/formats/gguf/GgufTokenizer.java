package io.github.amulet4j.formats.gguf;



import com.google.gson.stream.JsonWriter;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;
import io.github.amulet4j.formats.tokenizer.Vocabulary;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
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
 * special token strings, {@code add_bos_token} and the chat template go to the {@link TokenizerConfig}. The JSON is
 * written straight to text (no JSON tree), and the token ids a tokenizer needs besides it
 * ({@link #vocabulary()}, {@link #specialIds()}) come from the metadata, so that nothing parses that JSON but the
 * tokenizers library itself (a Qwen2.5 vocabulary: 151,665 tokens and 151,387 merges, 7 MB of JSON).
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

    /** Writes the JSON (the metadata checked already). */
    private interface JsonBody {
        void write(JsonWriter w) throws IOException;
    }

    private final JsonBody body;
    private volatile String json;
    private final TokenizerConfig config;
    private final Vocabulary vocabulary;
    private final Set<Integer> specialIds;

    private GgufTokenizer(JsonBody body, TokenizerConfig config, Vocabulary vocabulary, Set<Integer> specialIds) {
        this.body = body;
        this.config = config;
        this.vocabulary = vocabulary;
        this.specialIds = specialIds;
    }

    /** An added token of the JSON's {@code added_tokens}. */
    private record Added(int id, String content, boolean special, boolean rstrip) {
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
        // the strings stay as the file's bytes: only the added tokens' and the config's are decoded here
        GgufArray strings = m.stringArray("tokenizer.ggml.tokens");
        int n = strings.size();
        int[] types = m.has("tokenizer.ggml.token_type") ? m.ints("tokenizer.ggml.token_type") : null;
        if (types != null && types.length != n) {
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.token_type' has " + types.length
                    + " entries for " + n + " tokens");
        }
        if (types != null) {
            // llama.cpp pads the token list to the embedding's rows with unused [PAD] tokens; the tokenizer has none
            while (n > 1 && types[n - 1] == UNUSED) {
                n--;
            }
            types = Arrays.copyOf(types, n);
        }
        int count = n;
        boolean spm = switch (model) {
            case "gpt2" -> false;
            case "llama" -> true;
            default -> throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.model' is '" + model
                    + "'; supported: gpt2 (byte-level BPE), llama (SentencePiece)");
        };
        List<Added> added = addedTokens(strings, types, spm);
        if (spm && "phi3".equals(m.optString("general.architecture", ""))) {
            added = rstripPhi3Specials(added);
        }
        // what the JSON needs is checked now; the JSON itself is written when first asked for (json()): a caller with
        // the JSON at hand (a cached copy) needs only the ids and the config
        int[] tokenTypes = types;
        List<Added> addedTokens = added;
        JsonBody body;
        if (spm) {
            float[] scores = scores(m, src, count);
            body = w -> sentencePiece(w, m, scores, Arrays.copyOf(strings.strings(), count), tokenTypes, addedTokens);
        } else {
            String pre = pre(m, src);
            body = w -> byteLevelBpe(w, m, pre, Arrays.copyOf(strings.strings(), count), addedTokens);
        }
        TokenizerConfig.Builder c = TokenizerConfig.builder()
                .bosToken(token(m, src, strings, count, "tokenizer.ggml.bos_token_id"))
                .eosToken(token(m, src, strings, count, "tokenizer.ggml.eos_token_id"))
                .padToken(token(m, src, strings, count, "tokenizer.ggml.padding_token_id"))
                .unkToken(token(m, src, strings, count, "tokenizer.ggml.unknown_token_id"))
                .addBosToken(m.optBool("tokenizer.ggml.add_bos_token", spm))
                .addEosToken(m.optBool("tokenizer.ggml.add_eos_token", false));
        for (String key : m.keys()) {
            if (key.equals("tokenizer.chat_template")) {
                c.chatTemplate(m.string(key));
            } else if (key.startsWith("tokenizer.chat_template.")) {
                c.chatTemplate(key.substring("tokenizer.chat_template.".length()), m.string(key));
            }
        }
        // the ids as the JSON gives them: a token's first id in the vocabulary, then the added tokens' own ids
        Map<String, Integer> addedIds = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        for (Added a : added) {
            addedIds.put(a.content(), a.id());
            if (a.special()) {
                special.add(a.id());
            }
        }
        return new GgufTokenizer(body, c.build(), new GgufVocabulary(strings, count, addedIds),
                Collections.unmodifiableSet(special));
    }

    /** The tokenizer as {@code tokenizer.json} text (written on the first call: 0.3-0.5 s for a Qwen2.5 vocabulary). */
    public String json() {
        String j = json;
        if (j == null) {
            synchronized (this) {
                j = json;
                if (j == null) {
                    json = j = write(body);
                }
            }
        }
        return j;
    }

    private static String write(JsonBody body) {
        // written to a StringBuilder (a writer that encodes as it goes cost more than the rest of the tokenizer)
        StringWriter text = new StringWriter(1 << 20);
        try {
            JsonWriter w = new JsonWriter(text);
            w.setHtmlSafe(false);
            w.setSerializeNulls(false);
            body.write(w);
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /**
     * The ids and token strings, as the JSON's vocabulary and added tokens give them: a token listed twice keeps
     * its first id unless it is an added token (which keeps its own). Read from the file's strings as asked
     * ({@link GgufVocabulary}).
     */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** Ids of the special added tokens (control tokens, and SentencePiece's unknown token). */
    public Set<Integer> specialIds() {
        return specialIds;
    }

    /** The special tokens, {@code add_bos_token} and chat templates. */
    public TokenizerConfig config() {
        return config;
    }


    private static String token(GgufMetadata m, String src, GgufArray tokens, int count, String key) {
        Integer id = m.optNonNegativeInt(key);
        if (id == null) {
            return null;
        }
        if (id >= count) {
            throw new GgufFormatException(src + ": metadata '" + key + "' is " + id + ", outside the "
                    + count + " tokens");
        }
        return tokens.string(id);
    }

    private static int type(int[] types, int id) {
        return types == null ? NORMAL : types[id];
    }

    /**
     * {@code tokenizer.ggml.pre} (default {@code default}), one of the pre-tokenizers this class reproduces.
     *
     * @throws GgufFormatException naming the file and the key for any other
     */
    private static String pre(GgufMetadata m, String src) {
        String pre = m.optString("tokenizer.ggml.pre", "default");
        if (!GPT2_PRE.contains(pre) && !LLAMA3_PRE.contains(pre) && !QWEN2_PRE.contains(pre)) {
            Set<String> known = new TreeSet<>(GPT2_PRE);
            known.addAll(LLAMA3_PRE);
            known.addAll(QWEN2_PRE);
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.pre' is '" + pre
                    + "', a pre-tokenizer this library does not reproduce; supported: " + known);
        }
        return pre;
    }

    /** {@code tokenizer.ggml.scores}, at least one a token; a shorter array is a {@link GgufFormatException}. */
    private static float[] scores(GgufMetadata m, String src, int tokens) {
        float[] scores = m.floats("tokenizer.ggml.scores");
        if (scores.length < tokens) {
            throw new GgufFormatException(src + ": metadata 'tokenizer.ggml.scores' has " + scores.length
                    + " entries for " + tokens + " tokens");
        }
        return scores;
    }

    private static void byteLevelBpe(JsonWriter w, GgufMetadata m, String pre, String[] tokens, List<Added> added)
            throws IOException {
        String regex = GPT2_PRE.contains(pre) ? null : LLAMA3_PRE.contains(pre) ? LLAMA3_REGEX : QWEN2_REGEX;
        w.beginObject().name("version").value("1.0");
        if (QWEN2_PRE.contains(pre)) {
            w.name("normalizer").beginObject().name("type").value("NFC").endObject();
        }
        writeAdded(w, added);
        w.name("pre_tokenizer");
        if (regex == null) {
            byteLevel(w, true);
        } else {
            w.beginObject().name("type").value("Sequence").name("pretokenizers").beginArray();
            split(w, regex);
            byteLevel(w, false);
            w.endArray().endObject();
        }
        w.name("post_processor");
        byteLevel(w, false);
        w.name("decoder");
        byteLevel(w, false);
        w.name("model");
        bpeModel(w, tokens, m.has("tokenizer.ggml.merges") ? m.strings("tokenizer.ggml.merges") : new String[0],
                false, null, LLAMA3_PRE.contains(pre));
        w.endObject();
    }

    private static void sentencePiece(JsonWriter w, GgufMetadata m, float[] scores, String[] tokens, int[] types,
                                      List<Added> added) throws IOException {
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
        String[] merges = mergesFromScores(tokens, scores, types);
        w.beginObject().name("version").value("1.0");
        writeAdded(w, added);
        w.name("normalizer").beginObject().name("type").value("Sequence").name("normalizers").beginArray();
        if (m.optBool("tokenizer.ggml.add_space_prefix", true)) {
            w.beginObject().name("type").value("Prepend").name("prepend").value("▁").endObject();
        }
        replace(w, " ", "▁");
        w.endArray().endObject();
        w.name("decoder").beginObject().name("type").value("Sequence").name("decoders").beginArray();
        replace(w, "▁", " ");
        w.beginObject().name("type").value("ByteFallback").endObject();
        w.beginObject().name("type").value("Fuse").endObject();
        w.beginObject().name("type").value("Strip").name("content").value(" ").name("start").value(1)
                .name("stop").value(0).endObject();
        w.endArray().endObject();
        w.name("model");
        bpeModel(w, tokens, merges, true, unk, false);
        w.endObject();
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

    /**
     * The special tokens of a Phi-3 / Phi-3.5 SentencePiece vocabulary (architecture {@code phi3}; Phi-4-mini's
     * byte-level vocabulary is left alone) take the whitespace after them ({@code rstrip}), as its
     * {@code tokenizer.json} says and llama.cpp sets for a file named like a Phi-3 model, except {@code <unk>},
     * {@code <s>} and {@code <|endoftext|>}: so
     * {@code "<|user|>\nHi"} tokenizes as {@code <|user|>, ▁Hi} from a GGUF file as from the folder.
     */
    private static List<Added> rstripPhi3Specials(List<Added> added) {
        Set<String> keep = Set.of("<unk>", "<s>", "<|endoftext|>");
        List<Added> out = new ArrayList<>(added.size());
        for (Added a : added) {
            out.add(a.special() && !keep.contains(a.content()) ? new Added(a.id(), a.content(), true, true) : a);
        }
        return out;
    }

    /** The added tokens: none without token types (every token is then normal). */
    private static List<Added> addedTokens(GgufArray tokens, int[] types, boolean unknownIsSpecial) {
        List<Added> a = new ArrayList<>();
        for (int i = 0; types != null && i < types.length; i++) {
            int t = types[i];
            if (t == CONTROL || t == USER_DEFINED || (unknownIsSpecial && t == UNKNOWN)) {
                a.add(new Added(i, tokens.string(i), t != USER_DEFINED, false));
            }
        }
        return a;
    }

    private static void writeAdded(JsonWriter w, List<Added> added) throws IOException {
        w.name("added_tokens").beginArray();
        for (Added a : added) {
            w.beginObject().name("id").value(a.id()).name("content").value(a.content())
                    .name("single_word").value(false).name("lstrip").value(false).name("rstrip").value(a.rstrip())
                    .name("normalized").value(false).name("special").value(a.special()).endObject();
        }
        w.endArray();
    }

    private static void bpeModel(JsonWriter w, String[] tokens, String[] merges, boolean byteFallback, String unk,
                                 boolean ignoreMerges) throws IOException {
        w.beginObject().name("type").value("BPE");
        if (unk != null) {
            w.name("unk_token").value(unk);
        }
        w.name("fuse_unk").value(byteFallback).name("byte_fallback").value(byteFallback);
        if (ignoreMerges) {
            w.name("ignore_merges").value(true);
        }
        w.name("vocab").beginObject();
        Set<String> seen = new HashSet<>(tokens.length * 4 / 3 + 1);
        for (int i = 0; i < tokens.length; i++) {
            if (seen.add(tokens[i])) {
                w.name(tokens[i]).value(i);
            }
        }
        w.endObject();
        w.name("merges").beginArray();
        for (String x : merges) {
            w.value(x);
        }
        w.endArray().endObject();
    }

    private static void byteLevel(JsonWriter w, boolean useRegex) throws IOException {
        w.beginObject().name("type").value("ByteLevel").name("add_prefix_space").value(false)
                .name("trim_offsets").value(true).name("use_regex").value(useRegex).endObject();
    }

    private static void split(JsonWriter w, String regex) throws IOException {
        w.beginObject().name("type").value("Split").name("pattern").beginObject().name("Regex").value(regex).endObject()
                .name("behavior").value("Isolated").name("invert").value(false).endObject();
    }

    private static void replace(JsonWriter w, String from, String to) throws IOException {
        w.beginObject().name("type").value("Replace").name("pattern").beginObject().name("String").value(from)
                .endObject().name("content").value(to).endObject();
    }
}
