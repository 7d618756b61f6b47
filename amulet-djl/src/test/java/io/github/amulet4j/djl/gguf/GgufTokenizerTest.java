package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.GgufTokenizer;
import io.github.amulet4j.formats.gguf.GgufTokenizerExport;

import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.formats.gguf.GgufWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tokenizer built from GGUF metadata encodes like the model's own {@code tokenizer.json} on a varied text set,
 * for byte-level BPE vocabularies with each pre-tokenizer (GPT-2, Llama 3, Qwen2) and for a SentencePiece-style
 * vocabulary (scores, byte fallback, ▁ for spaces).
 */
class GgufTokenizerTest {

    static final List<String> TEXTS = List.of(
            "Hello world", "the quick brown fox jumps over the lazy dog", "  two leading spaces", "trailing   ",
            "tabs\tand\nnew\n\nlines\r\n", "digits 1 12 123 1234 12345 and 3.14159", "(hello) [world] {x}",
            "Unicode: café naïve Straße Ελληνικά 日本語 中文", "decomposed e\u0301 and composed é",
            "emoji 😀🎉👩‍💻 ok", "code: def f(x):\n    return x * 2  # twice", "it's they're I'M we'll",
            "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n", "x<|endoftext|>y", "", " ", "ünïcödé!!!");

    @TempDir
    Path dir;

    /** A tiny byte-level BPE folder with extra merges that cross the pre-tokenizers' boundaries. */
    private Path bpeFolder(String name, String pre) throws IOException {
        Path folder = dir.resolve(name);
        TinyTokenizerWriter.builder().vocabSize(600).maxMerges(300).build().writeTo(folder);
        Path file = folder.resolve("tokenizer.json");
        JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject model = root.getAsJsonObject("model");
        JsonObject vocab = model.getAsJsonObject("vocab");
        JsonArray merges = model.getAsJsonArray("merges");
        // the new tokens take the ids of filler tokens (the ids stay dense, below the special tokens)
        List<String> fillers = vocab.keySet().stream().filter(k -> k.startsWith("<|filler_")).toList();
        int f = 0;
        // "(h" joins across GPT-2's split of punctuation and letters; digit groups across Qwen2's single digits
        for (String[] m : new String[][] {{"(", "h"}, {"1", "2"}, {"12", "3"}, {"123", "4"}, {"Ã", "©"}}) {
            merges.add(m[0] + " " + m[1]);
            int id = vocab.remove(fillers.get(f++)).getAsInt();
            vocab.addProperty(m[0] + m[1], id);
        }
        switch (pre) {
            case "gpt-2" -> {
            }
            case "llama-bpe" -> {
                root.add("pre_tokenizer", JsonParser.parseString("{\"type\":\"Sequence\",\"pretokenizers\":["
                        + "{\"type\":\"Split\",\"pattern\":{\"Regex\":" + quote(GgufTokenizer.LLAMA3_REGEX) + "},"
                        + "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                        + "\"trim_offsets\":true,\"use_regex\":false}]}"));
                model.addProperty("ignore_merges", true);
            }
            case "qwen2" -> {
                root.add("normalizer", JsonParser.parseString("{\"type\":\"NFC\"}"));
                root.add("pre_tokenizer", JsonParser.parseString("{\"type\":\"Sequence\",\"pretokenizers\":["
                        + "{\"type\":\"Split\",\"pattern\":{\"Regex\":" + quote(GgufTokenizer.QWEN2_REGEX) + "},"
                        + "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                        + "\"trim_offsets\":false,\"use_regex\":false}]}"));
            }
            default -> throw new IllegalArgumentException(pre);
        }
        Files.writeString(file, new GsonBuilder().disableHtmlEscaping().create().toJson(root));
        return folder;
    }

    private static String quote(String s) {
        return new GsonBuilder().disableHtmlEscaping().create().toJson(s);
    }

    private Path ggufOf(Path folder, int vocab) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "qwen2");
        GgufTokenizerExport.put(w, folder, vocab);
        Path f = folder.resolveSibling(folder.getFileName() + ".gguf");
        w.write(f);
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt-2", "llama-bpe", "qwen2"})
    void byteLevelBpeEncodesLikeTokenizerJson(String pre) throws IOException {
        Path folder = bpeFolder(pre, pre);
        Path gguf = ggufOf(folder, 640);
        try (GgufFile g = GgufFile.open(gguf);
             HfTokenizer want = HfTokenizer.load(folder)) {
            assertEquals(pre, g.metadata().string("tokenizer.ggml.pre"));
            GgufTokenizer gt = GgufTokenizer.of(g);
            try (HfTokenizer got = HfTokenizer.fromGguf(gt, gguf)) {
                assertEquals(want.vocabularySize(), got.vocabularySize(), "padding [PAD] tokens dropped");
                for (int id = 0; id < want.vocabularySize(); id++) {
                    // the ids from the metadata match those read from the folder's tokenizer.json
                    assertEquals(want.idToToken(id), got.idToToken(id), "token " + id);
                    assertEquals(want.tokenToId(want.idToToken(id)), got.tokenToId(want.idToToken(id)), "id of " + id);
                }
                for (String t : TEXTS) {
                    int[] ids = want.encode(t);
                    assertArrayEquals(ids, got.encode(t), pre + ": " + t);
                    assertEquals(want.decode(ids), got.decode(ids), pre + " decode: " + t);
                    assertEquals(want.decode(ids, false), got.decode(ids, false), pre + " decode: " + t);
                }
                assertEquals(want.eosTokenId(), got.eosTokenId());
                assertEquals(want.specialTokenIds(), got.specialTokenIds());
                assertEquals(TokenizerConfig.readFolder(folder).chatTemplate(), gt.config().chatTemplate());
            }
        }
    }

    @Test
    void preTokenizersReallyDiffer() throws IOException {
        // the extra merges make the three pre-tokenizers encode the text set differently, so the test above
        // would fail with the wrong one
        Map<String, List<int[]>> byPre = new HashMap<>();
        for (String pre : List.of("gpt-2", "llama-bpe", "qwen2")) {
            try (HfTokenizer t = HfTokenizer.load(bpeFolder("d-" + pre, pre))) {
                List<int[]> all = new ArrayList<>();
                for (String s : TEXTS) {
                    all.add(t.encode(s));
                }
                byPre.put(pre, all);
            }
        }
        assertNotEquals(flat(byPre.get("gpt-2")), flat(byPre.get("llama-bpe")));
        assertNotEquals(flat(byPre.get("gpt-2")), flat(byPre.get("qwen2")));
        assertNotEquals(flat(byPre.get("llama-bpe")), flat(byPre.get("qwen2")));
    }

    private static String flat(List<int[]> l) {
        StringBuilder sb = new StringBuilder();
        l.forEach(a -> sb.append(Arrays.toString(a)));
        return sb.toString();
    }

    @Test
    void unknownPreTokenizerRefusedByName() throws IOException {
        Path f = dir.resolve("pre.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "falcon")
                .putStrings("tokenizer.ggml.tokens", List.of("a", "b")).putStrings("tokenizer.ggml.merges", List.of())
                .write(f);
        try (GgufFile g = GgufFile.open(f)) {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufTokenizer.of(g));
            assertTrue(e.getMessage().contains("'tokenizer.ggml.pre' is 'falcon'") && e.getMessage().contains("qwen2"),
                    e.getMessage());
        }
    }

    // ---- SentencePiece ----

    /** The merges of the SentencePiece vocabulary below, in priority order (the score of a piece is minus its rank). */
    static final String[][] SPM_MERGES = {
        {"▁", "t"}, {"h", "e"}, {"▁t", "he"}, {"i", "n"}, {"▁", "a"}, {"e", "r"}, {"o", "n"}, {"▁", "w"},
        {"l", "l"}, {"▁", "h"}, {"▁h", "e"}, {"▁he", "ll"}, {"▁hell", "o"}, {"o", "r"}, {"▁w", "or"},
        {"▁wor", "l"}, {"▁worl", "d"}, {"▁", "▁"}, {"▁▁", "▁"}, {"▁", "1"}, {"1", "2"}, {"▁", "c"}, {"a", "f"},
        {"▁c", "af"}, {"▁", "i"}, {"▁i", "n"}, {"▁", "d"}, {"e", "f"}, {"▁d", "ef"}, {"▁", "x"}, {"t", "h"},
        {"th", "e"}, {"▁", "("}, {"▁(", "x"}, {"▁", "é"}};

    /** tokens, scores and types of a SentencePiece-style vocabulary: unk, bos, eos, 256 bytes, characters, merges. */
    static Object[] spmVocab() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<Integer> types = new ArrayList<>(List.of(GgufTokenizer.UNKNOWN, GgufTokenizer.CONTROL, GgufTokenizer.CONTROL));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            scores.add(0f);
            types.add(GgufTokenizer.BYTE);
        }
        String chars = "▁etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ0123456789.,:;!?()[]{}'\"#*=-+_/\\é";
        for (int i = 0; i < chars.length(); i++) {
            tokens.add(String.valueOf(chars.charAt(i)));
            scores.add(-1000f - i);
            types.add(GgufTokenizer.NORMAL);
        }
        for (int r = 0; r < SPM_MERGES.length; r++) {
            tokens.add(SPM_MERGES[r][0] + SPM_MERGES[r][1]);
            scores.add((float) -r);
            types.add(GgufTokenizer.NORMAL);
        }
        tokens.add("<|im_start|>");
        scores.add(0f);
        types.add(GgufTokenizer.CONTROL);
        return new Object[] {tokens, scores, types};
    }

    /**
     * The model's tokenizer.json as Hugging Face's LlamaTokenizerFast writes it (legacy layout): merges derived from
     * the scores the way transformers' SentencePieceExtractor does, written out here in plain loops.
     */
    @SuppressWarnings("unchecked")
    static String spmTokenizerJson(Object[] v) {
        List<String> tokens = (List<String>) v[0];
        List<Float> scores = (List<Float>) v[1];
        List<Integer> types = (List<Integer>) v[2];
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
        }
        // transformers: for each piece, every (left, right) split with both in the vocabulary, sorted by their ids;
        // then all sorted by the piece's score, descending, stable
        List<Object[]> merges = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (types.get(i) != GgufTokenizer.NORMAL) {
                continue;
            }
            String piece = tokens.get(i);
            List<Object[]> local = new ArrayList<>();
            int[] cps = piece.codePoints().toArray();
            for (int k = 1; k < cps.length; k++) {
                String l = new String(cps, 0, k);
                String r = new String(cps, k, cps.length - k);
                Integer li = vocab.get(l);
                Integer ri = vocab.get(r);
                if (li != null && ri != null && types.get(li) == GgufTokenizer.NORMAL
                        && types.get(ri) == GgufTokenizer.NORMAL) {
                    local.add(new Object[] {l, r, scores.get(i), li, ri});
                }
            }
            local.sort((a, b) -> (Integer) a[3] != (int) (Integer) b[3] ? Integer.compare((Integer) a[3], (Integer) b[3])
                    : Integer.compare((Integer) a[4], (Integer) b[4]));
            merges.addAll(local);
        }
        merges.sort((a, b) -> Float.compare((Float) b[2], (Float) a[2]));
        StringBuilder sb = new StringBuilder();
        sb.append("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
        boolean first = true;
        for (int i = 0; i < tokens.size(); i++) {
            int t = types.get(i);
            if (t == GgufTokenizer.CONTROL || t == GgufTokenizer.UNKNOWN) {
                sb.append(first ? "" : ",").append("{\"id\":").append(i).append(",\"content\":").append(quote(tokens.get(i)))
                        .append(",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                                + "\"special\":true}");
                first = false;
            }
        }
        sb.append("],\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"▁\"},"
                + "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"▁\"}]},\"pre_tokenizer\":null,"
                + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],"
                + "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
                + "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"▁\"},"
                + "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \","
                + "\"start\":1,\"stop\":0}]},\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
                + "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":true,"
                + "\"vocab\":{");
        first = true;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            sb.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
            first = false;
        }
        sb.append("},\"merges\":[");
        first = true;
        for (Object[] m : merges) {
            sb.append(first ? "" : ",").append(quote(m[0] + " " + m[1]));
            first = false;
        }
        sb.append("]}}");
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    @Test
    void sentencePieceEncodesLikeTokenizerJson() throws IOException {
        Object[] v = spmVocab();
        List<String> tokens = (List<String>) v[0];
        Path folder = dir.resolve("spm");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("tokenizer.json"), spmTokenizerJson(v), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\","
                + "\"unk_token\":\"<unk>\",\"add_bos_token\":true}");
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = ((List<Float>) v[1]).get(i);
        }
        List<String> padded = new ArrayList<>(tokens);
        List<Integer> types = new ArrayList<>((List<Integer>) v[2]);
        float[] paddedScores = Arrays.copyOf(scores, tokens.size() + 3);
        for (int i = 0; i < 3; i++) {
            padded.add("[PAD" + (tokens.size() + i) + "]");
            types.add(GgufTokenizer.UNUSED);
        }
        Path gguf = dir.resolve("spm.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .putString("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", padded)
                .putFloats("tokenizer.ggml.scores", paddedScores)
                .putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray())
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 2)
                .putU32("tokenizer.ggml.unknown_token_id", 0)
                .putString("tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}")
                .write(gguf);
        List<String> texts = new ArrayList<>(TEXTS);
        texts.addAll(List.of("<s>the hello world</s>", "hello<s> world", "the  the   the", "▁already", "12 112 1212",
                "café in the def (x)"));
        try (GgufFile g = GgufFile.open(gguf);
             HfTokenizer want = HfTokenizer.load(folder)) {
            GgufTokenizer gt = GgufTokenizer.of(g);
            assertTrue(gt.config().addBosToken(), "SentencePiece adds BOS by default");
            try (HfTokenizer got = HfTokenizer.fromGguf(gt, gguf)) {
                int merged = 0;
                for (String t : texts) {
                    int[] ids = want.encode(t);
                    assertArrayEquals(ids, got.encode(t), "encode: " + t);
                    assertArrayEquals(want.encodePrompt(t, false), got.encodePrompt(t, false), "prompt: " + t);
                    assertEquals(want.decode(ids), got.decode(ids), "decode: " + t);
                    for (int id : ids) {
                        merged += id >= tokens.size() - SPM_MERGES.length - 1 ? 1 : 0;
                    }
                }
                assertTrue(merged > 20, "merged pieces are used: " + merged);
                // byte fallback: an emoji becomes its four UTF-8 byte tokens
                int[] emoji = got.encode("😀");
                assertEquals(List.of("▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"),
                        Arrays.stream(emoji).mapToObj(got::idToToken).toList());
                assertEquals(want.bosTokenId(), got.bosTokenId());
                assertEquals(want.eosTokenId(), got.eosTokenId());
            }
        }
    }
}
