package io.github.amulet4j.formats.tokenizer;

import io.github.amulet4j.formats.json.Json;
import io.github.amulet4j.formats.json.JsonFieldException;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The parts of {@code tokenizer_config.json} that prompt building needs: the chat template(s), the special
 * token strings and whether BOS/EOS are added. A {@code chat_template.jinja} next to it (the newer Hugging
 * Face layout) replaces the default template, as transformers does. Absent values are null.
 */
public final class TokenizerConfig {

    /** The file name in a model folder. */
    public static final String FILE_NAME = "tokenizer_config.json";
    /** The separate template file of the newer layout. */
    public static final String TEMPLATE_FILE_NAME = "chat_template.jinja";

    private final Path source;
    private final Map<String, String> chatTemplates;
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final String unkToken;
    private final Boolean addBosToken;
    private final Boolean addEosToken;
    private final Long modelMaxLength;

    private TokenizerConfig(Builder b) {
        this.source = b.source;
        this.chatTemplates = Collections.unmodifiableMap(new LinkedHashMap<>(b.chatTemplates));
        this.bosToken = b.bosToken;
        this.eosToken = b.eosToken;
        this.padToken = b.padToken;
        this.unkToken = b.unkToken;
        this.addBosToken = b.addBosToken;
        this.addEosToken = b.addEosToken;
        this.modelMaxLength = b.modelMaxLength;
    }

    /** A builder, for tests and for models without the file. */
    public static Builder builder() {
        return new Builder();
    }

    /** A config with nothing set. */
    public static TokenizerConfig empty() {
        return builder().build();
    }

    /**
     * Reads {@code tokenizer_config.json} and {@code chat_template.jinja} of a model folder; either may be absent
     * (both absent gives {@link #empty()}).
     *
     * @throws TokenizerFormatException naming the file and field when a value has the wrong type
     */
    public static TokenizerConfig readFolder(Path modelDir) throws IOException {
        Path json = modelDir.resolve(FILE_NAME);
        Builder b = Files.isRegularFile(json) ? parse(json) : builder();
        Path jinja = modelDir.resolve(TEMPLATE_FILE_NAME);
        if (Files.isRegularFile(jinja)) {
            b.chatTemplate(Files.readString(jinja, StandardCharsets.UTF_8));
            if (b.source == null) {
                b.source = jinja;
            }
        }
        return b.build();
    }

    /** Reads one {@code tokenizer_config.json} file (no look-up of a separate template file). */
    public static TokenizerConfig read(Path file) throws IOException {
        return parse(file).build();
    }

    private static Builder parse(Path file) throws IOException {
        try {
            JsonObject o = Json.readObject(file);
            Builder b = builder();
            b.source = file;
            if (Json.has(o, "chat_template")) {
                JsonElement t = o.get("chat_template");
                if (t.isJsonPrimitive() && t.getAsJsonPrimitive().isString()) {
                    b.chatTemplate(t.getAsString());
                } else if (t.isJsonArray()) {
                    for (JsonElement item : t.getAsJsonArray()) {
                        if (!item.isJsonObject() || !Json.has(item.getAsJsonObject(), "name")
                                || !Json.has(item.getAsJsonObject(), "template")
                                || !item.getAsJsonObject().get("template").isJsonPrimitive()
                                || !item.getAsJsonObject().get("name").isJsonPrimitive()) {
                            throw Json.wrong(file, "chat_template", "a string or a list of {name, template} objects", item);
                        }
                        b.chatTemplate(item.getAsJsonObject().get("name").getAsString(),
                                item.getAsJsonObject().get("template").getAsString());
                    }
                } else {
                    throw Json.wrong(file, "chat_template", "a string or a list of {name, template} objects", t);
                }
            }
            b.bosToken = token(o, "bos_token", file);
            b.eosToken = token(o, "eos_token", file);
            b.padToken = token(o, "pad_token", file);
            b.unkToken = token(o, "unk_token", file);
            b.addBosToken = Json.optBool(o, "add_bos_token", file);
            b.addEosToken = Json.optBool(o, "add_eos_token", file);
            b.modelMaxLength = Json.optLongClamped(o, "model_max_length", file);
            return b;
        } catch (JsonFieldException e) {
            throw new TokenizerFormatException(e.getMessage(), e);
        }
    }

    /** A special token: a string, or an AddedToken-style object with a {@code content} field. */
    private static String token(JsonObject o, String k, Path file) {
        if (!Json.has(o, k)) {
            return null;
        }
        JsonElement e = o.get(k);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            return e.getAsString();
        }
        if (e.isJsonObject()) {
            JsonElement c = e.getAsJsonObject().get("content");
            if (c != null && c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
                return c.getAsString();
            }
        }
        throw Json.wrong(file, k, "a string or an object with a string 'content'", e);
    }

    /** The file read, or null for a built config. */
    public Path source() {
        return source;
    }

    /** The default chat template (named {@code default}, or the only one), or null. */
    public String chatTemplate() {
        String t = chatTemplates.get("default");
        if (t == null && chatTemplates.size() == 1) {
            t = chatTemplates.values().iterator().next();
        }
        return t;
    }

    /** A named chat template (e.g. {@code tool_use}), or null. */
    public String chatTemplate(String name) {
        return chatTemplates.get(name);
    }

    /** All chat templates by name; a single unnamed template is named {@code default}. */
    public Map<String, String> chatTemplates() {
        return chatTemplates;
    }

    /** BOS token string, or null. */
    public String bosToken() {
        return bosToken;
    }

    /** EOS token string, or null. */
    public String eosToken() {
        return eosToken;
    }

    /** Padding token string, or null. */
    public String padToken() {
        return padToken;
    }

    /** Unknown token string, or null. */
    public String unkToken() {
        return unkToken;
    }

    /** {@code add_bos_token}, or null when the file does not say. */
    public Boolean addBosToken() {
        return addBosToken;
    }

    /** {@code add_eos_token}, or null when the file does not say. */
    public Boolean addEosToken() {
        return addEosToken;
    }

    /** {@code model_max_length} (clamped to Long.MAX_VALUE), or null. */
    public Long modelMaxLength() {
        return modelMaxLength;
    }

    @Override
    public String toString() {
        return "TokenizerConfig[" + (source == null ? "built" : source) + ", templates=" + chatTemplates.keySet()
                + ", bos=" + bosToken + ", eos=" + eosToken + ", addBos=" + addBosToken + "]";
    }

    /** Builds a {@link TokenizerConfig}. */
    public static final class Builder {
        private Path source;
        private final Map<String, String> chatTemplates = new LinkedHashMap<>();
        private String bosToken;
        private String eosToken;
        private String padToken;
        private String unkToken;
        private Boolean addBosToken;
        private Boolean addEosToken;
        private Long modelMaxLength;

        private Builder() {
        }

        /** Sets the default template. */
        public Builder chatTemplate(String template) {
            return chatTemplate("default", template);
        }

        /** Sets a named template. */
        public Builder chatTemplate(String name, String template) {
            chatTemplates.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(template, "template"));
            return this;
        }

        /** Sets the BOS token string. */
        public Builder bosToken(String v) {
            bosToken = v;
            return this;
        }

        /** Sets the EOS token string. */
        public Builder eosToken(String v) {
            eosToken = v;
            return this;
        }

        /** Sets the padding token string. */
        public Builder padToken(String v) {
            padToken = v;
            return this;
        }

        /** Sets the unknown token string. */
        public Builder unkToken(String v) {
            unkToken = v;
            return this;
        }

        /** Sets {@code add_bos_token}. */
        public Builder addBosToken(Boolean v) {
            addBosToken = v;
            return this;
        }

        /** Sets {@code add_eos_token}. */
        public Builder addEosToken(Boolean v) {
            addEosToken = v;
            return this;
        }

        /** Sets {@code model_max_length}. */
        public Builder modelMaxLength(Long v) {
            if (v != null && v <= 0) {
                throw new IllegalArgumentException("modelMaxLength must be positive, got " + v);
            }
            modelMaxLength = v;
            return this;
        }

        /** The config. */
        public TokenizerConfig build() {
            return new TokenizerConfig(this);
        }
    }
}
