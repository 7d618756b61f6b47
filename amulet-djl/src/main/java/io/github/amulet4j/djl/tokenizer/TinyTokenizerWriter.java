package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.tokenizer.TokenizerConfig;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Writes a real, loadable Hugging Face tokenizer into a folder: {@code tokenizer.json} (a byte-level BPE
 * model as GPT-2 and Qwen use: the 256 byte symbols, English letter merges, filler tokens up to the requested
 * vocabulary size, special tokens as added tokens at the end) and {@code tokenizer_config.json} with a chat
 * template. For tests, benchmarks and demos that need a tokenizer without downloading one. Any text encodes and
 * decodes back exactly.
 *
 * <p>A filler token decodes to its name ({@code <|filler_7|>}), which the few merges split into a dozen tokens when
 * the text is encoded again. With {@link Builder#fillersRoundTrip(boolean)} the rest of the vocabulary is instead
 * merges that build single Unicode characters from their UTF-8 bytes (three-byte characters from U+0800 up, then
 * four-byte ones, each after the merges of its leading bytes), so that the text of generated ids encodes back to
 * the same ids, as a real tokenizer's does for ordinary text: a chat client that sends a random model's answer back
 * in the next turn then sends as many tokens as were generated (with fillers, 16 generated tokens came back as about
 * 250). ASCII text encodes as without it.
 */
public final class TinyTokenizerWriter {

    /** A ChatML template as Qwen2.5 uses it (without tools), with a default system message. */
    public static final String CHATML_TEMPLATE = "{%- if messages[0]['role'] == 'system' %}"
            + "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
            + "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
            + "{%- for message in messages %}"
            + "{%- if not (message.role == 'system' and loop.first) %}"
            + "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
            + "{%- endif %}{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    /** The special tokens written by default, in id order at the end of the vocabulary. */
    public static final List<String> DEFAULT_SPECIAL_TOKENS =
            List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>");

    private static final String LETTERS = "etaoinshrdlucmfwypvbgkjqxz";

    private final int vocabSize;
    private final List<String> specialTokens;
    private final String chatTemplate;
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final boolean addBosToken;
    private final boolean postProcessorAddsBos;
    private final long modelMaxLength;
    private final int maxMerges;
    private final boolean fillersRoundTrip;

    private TinyTokenizerWriter(Builder b) {
        this.specialTokens = List.copyOf(new LinkedHashSet<>(b.specialTokens));
        this.vocabSize = b.vocabSize;
        this.chatTemplate = b.chatTemplate;
        this.bosToken = b.bosToken;
        this.eosToken = b.eosToken;
        this.padToken = b.padToken;
        this.addBosToken = b.addBosToken;
        this.postProcessorAddsBos = b.postProcessorAddsBos;
        this.modelMaxLength = b.modelMaxLength;
        this.maxMerges = b.maxMerges;
        this.fillersRoundTrip = b.fillersRoundTrip;
        int min = 256 + specialTokens.size();
        if (vocabSize < min) {
            throw new IllegalArgumentException("vocabSize must be at least 256 byte symbols + "
                    + specialTokens.size() + " special tokens = " + min + ", got " + vocabSize);
        }
        for (String t : new String[] {bosToken, eosToken, padToken}) {
            if (t != null && !specialTokens.contains(t)) {
                throw new IllegalArgumentException("token " + t + " is not among the special tokens " + specialTokens);
            }
        }
        if ((addBosToken || postProcessorAddsBos) && bosToken == null) {
            throw new IllegalArgumentException("adding BOS needs a bosToken");
        }
    }

    /** A builder with defaults: vocabulary 1000, {@link #DEFAULT_SPECIAL_TOKENS}, ChatML, EOS {@code <|im_end|>}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Id of a special token in the written tokenizer. */
    public int specialTokenId(String token) {
        int i = specialTokens.indexOf(token);
        if (i < 0) {
            throw new IllegalArgumentException("not a special token of this tokenizer: " + token);
        }
        return vocabSize - specialTokens.size() + i;
    }

    /** Total number of token ids (0 .. vocabSize-1). */
    public int vocabSize() {
        return vocabSize;
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir} (created if needed). */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        writeTokenizerJson(dir.resolve(HfTokenizer.TOKENIZER_FILE));
        writeTokenizerConfig(dir.resolve(TokenizerConfig.FILE_NAME));
    }

    /** The GPT-2 byte-to-symbol map: printable bytes map to themselves, the others to code points from 256 up. */
    static char[] byteSymbols() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) next++;
        }
        return map;
    }

    private void writeTokenizerJson(Path file) throws IOException {
        char[] sym = byteSymbols();
        String space = String.valueOf(sym[' ']);
        int regular = vocabSize - specialTokens.size();
        // merges: "Ġ"+letter, then letter pairs, then "Ġ"+pair, while room remains
        List<String[]> merges = new ArrayList<>();
        int budget = Math.min(maxMerges, regular - 256);
        for (int i = 0; i < LETTERS.length() && merges.size() < budget; i++) {
            merges.add(new String[] {space, String.valueOf(LETTERS.charAt(i))});
        }
        for (int i = 0; i < LETTERS.length() && merges.size() < budget; i++) {
            for (int j = 0; j < LETTERS.length() && merges.size() < budget; j++) {
                merges.add(new String[] {String.valueOf(LETTERS.charAt(i)), String.valueOf(LETTERS.charAt(j))});
            }
        }
        for (int i = 0; i < LETTERS.length() && merges.size() < budget; i++) {
            for (int j = 0; j < LETTERS.length() && merges.size() < budget; j++) {
                merges.add(new String[] {space + LETTERS.charAt(i), String.valueOf(LETTERS.charAt(j))});
            }
        }
        if (fillersRoundTrip) {
            characterMerges(sym, merges, regular - 256);
        }
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             JsonWriter w = new JsonWriter(out)) {
            w.beginObject();
            w.name("version").value("1.0");
            w.name("truncation").nullValue();
            w.name("padding").nullValue();
            w.name("added_tokens").beginArray();
            for (String t : specialTokens) {
                w.beginObject();
                w.name("id").value(specialTokenId(t));
                w.name("content").value(t);
                w.name("single_word").value(false);
                w.name("lstrip").value(false);
                w.name("rstrip").value(false);
                w.name("normalized").value(false);
                w.name("special").value(true);
                w.endObject();
            }
            w.endArray();
            w.name("normalizer").nullValue();
            w.name("pre_tokenizer");
            byteLevel(w, false);
            w.name("post_processor");
            if (postProcessorAddsBos) {
                int bosId = specialTokenId(bosToken);
                w.beginObject();
                w.name("type").value("TemplateProcessing");
                w.name("single").beginArray();
                templatePiece(w, "SpecialToken", bosToken);
                templatePiece(w, "Sequence", "A");
                w.endArray();
                w.name("pair").beginArray();
                templatePiece(w, "SpecialToken", bosToken);
                templatePiece(w, "Sequence", "A");
                templatePiece(w, "SpecialToken", bosToken);
                templatePiece(w, "Sequence", "B");
                w.endArray();
                w.name("special_tokens").beginObject();
                w.name(bosToken).beginObject();
                w.name("id").value(bosToken);
                w.name("ids").beginArray().value(bosId).endArray();
                w.name("tokens").beginArray().value(bosToken).endArray();
                w.endObject();
                w.endObject();
                w.endObject();
            } else {
                byteLevel(w, false);
            }
            w.name("decoder");
            byteLevel(w, false);
            w.name("model").beginObject();
            w.name("type").value("BPE");
            w.name("dropout").nullValue();
            w.name("unk_token").nullValue();
            w.name("continuing_subword_prefix").nullValue();
            w.name("end_of_word_suffix").nullValue();
            w.name("fuse_unk").value(false);
            w.name("byte_fallback").value(false);
            w.name("vocab").beginObject();
            int id = 0;
            for (int b = 0; b < 256; b++) {
                w.name(String.valueOf(sym[b])).value(id++);
            }
            for (String[] m : merges) {
                w.name(m[0] + m[1]).value(id++);
            }
            for (int k = 0; id < regular; k++) {
                w.name("<|filler_" + k + "|>").value(id++);
            }
            w.endObject();
            w.name("merges").beginArray();
            for (String[] m : merges) {
                w.value(m[0] + " " + m[1]);
            }
            w.endArray();
            w.endObject();
            w.endObject();
        }
    }

    /**
     * Adds merges that build whole characters from their UTF-8 bytes (U+0800 up, surrogates skipped) until
     * {@code merges} holds {@code limit}: each prefix of a character's bytes is merged once, before the first
     * character that needs it, so byte-level BPE rebuilds every character it has a merge for.
     */
    private static void characterMerges(char[] sym, List<String[]> merges, int limit) {
        java.util.Set<String> prefixes = new java.util.HashSet<>();
        for (int cp = 0x800; cp <= Character.MAX_CODE_POINT && merges.size() < limit; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                continue;
            }
            byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            StringBuilder prefix = new StringBuilder().append(sym[bytes[0] & 0xFF]);
            for (int k = 1; k < bytes.length && merges.size() < limit; k++) {
                String right = String.valueOf(sym[bytes[k] & 0xFF]);
                String joined = prefix + right;
                if (k == bytes.length - 1 || prefixes.add(joined)) {
                    merges.add(new String[] {prefix.toString(), right});
                }
                prefix.append(right);
            }
        }
    }

    private static void byteLevel(JsonWriter w, boolean addPrefixSpace) throws IOException {
        w.beginObject();
        w.name("type").value("ByteLevel");
        w.name("add_prefix_space").value(addPrefixSpace);
        w.name("trim_offsets").value(false);
        w.name("use_regex").value(true);
        w.endObject();
    }

    private static void templatePiece(JsonWriter w, String kind, String id) throws IOException {
        w.beginObject().name(kind).beginObject().name("id").value(id).name("type_id").value(0).endObject().endObject();
    }

    private void writeTokenizerConfig(Path file) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             JsonWriter w = new JsonWriter(out)) {
            w.setIndent("  ");
            w.beginObject();
            w.name("add_bos_token").value(addBosToken);
            w.name("add_eos_token").value(false);
            w.name("added_tokens_decoder").beginObject();
            for (String t : specialTokens) {
                w.name(String.valueOf(specialTokenId(t))).beginObject();
                w.name("content").value(t);
                w.name("lstrip").value(false);
                w.name("normalized").value(false);
                w.name("rstrip").value(false);
                w.name("single_word").value(false);
                w.name("special").value(true);
                w.endObject();
            }
            w.endObject();
            nullable(w, "bos_token", bosToken);
            if (chatTemplate != null) {
                w.name("chat_template").value(chatTemplate);
            }
            w.name("clean_up_tokenization_spaces").value(false);
            nullable(w, "eos_token", eosToken);
            w.name("model_max_length").value(modelMaxLength);
            nullable(w, "pad_token", padToken);
            w.name("tokenizer_class").value("PreTrainedTokenizerFast");
            w.name("unk_token").nullValue();
            w.endObject();
        }
    }

    private static void nullable(JsonWriter w, String name, String value) throws IOException {
        if (value == null) {
            w.name(name).nullValue();
        } else {
            w.name(name).value(value);
        }
    }

    /** Builds a {@link TinyTokenizerWriter}. */
    public static final class Builder {
        private int vocabSize = 1000;
        private List<String> specialTokens = DEFAULT_SPECIAL_TOKENS;
        private String chatTemplate = CHATML_TEMPLATE;
        private String bosToken;
        private String eosToken = "<|im_end|>";
        private String padToken = "<|endoftext|>";
        private boolean addBosToken;
        private boolean postProcessorAddsBos;
        private long modelMaxLength = 32768;
        private int maxMerges = 26 + 26 * 26 * 2;
        private boolean fillersRoundTrip;

        private Builder() {
        }

        /** Total number of token ids, specials included (at least 256 + number of special tokens). */
        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        /** Special tokens (added tokens), placed at the end of the vocabulary in this order. */
        public Builder specialTokens(List<String> v) {
            specialTokens = List.copyOf(v);
            return this;
        }

        /** The chat template, or null for none. */
        public Builder chatTemplate(String v) {
            chatTemplate = v;
            return this;
        }

        /** BOS token (one of the special tokens), or null. */
        public Builder bosToken(String v) {
            bosToken = v;
            return this;
        }

        /** EOS token (one of the special tokens), or null. */
        public Builder eosToken(String v) {
            eosToken = v;
            return this;
        }

        /** Padding token (one of the special tokens), or null. */
        public Builder padToken(String v) {
            padToken = v;
            return this;
        }

        /** {@code add_bos_token} in tokenizer_config.json. */
        public Builder addBosToken(boolean v) {
            addBosToken = v;
            return this;
        }

        /** Whether tokenizer.json's post-processor prepends BOS (as Llama 3's TemplateProcessing does). */
        public Builder postProcessorAddsBos(boolean v) {
            postProcessorAddsBos = v;
            return this;
        }

        /** {@code model_max_length}. */
        public Builder modelMaxLength(long v) {
            modelMaxLength = v;
            return this;
        }

        /** Upper bound on the number of BPE merges (the rest of the vocabulary is filler tokens). */
        public Builder maxMerges(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("maxMerges must be >= 0, got " + v);
            }
            maxMerges = v;
            return this;
        }

        /**
         * Whether the vocabulary past the letter merges holds whole characters (merges of their UTF-8 bytes) instead
         * of filler tokens, so that the text of any generated ids encodes back to them (default false).
         */
        public Builder fillersRoundTrip(boolean v) {
            fillersRoundTrip = v;
            return this;
        }

        /** The writer. @throws IllegalArgumentException for inconsistent settings */
        public TinyTokenizerWriter build() {
            Objects.requireNonNull(specialTokens, "specialTokens");
            return new TinyTokenizerWriter(this);
        }
    }
}
