package io.github.amulet4j.djl;

import io.github.amulet4j.align.AlignmentMethod;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.template.ChatTemplate;
import io.github.amulet4j.formats.tokenizer.GenerationDefaults;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.djl.tokenizer.TokenizerJsonCache;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;
import io.github.amulet4j.prompt.ChatFormatter;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.DefaultSystemMessage;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;
import io.github.amulet4j.prompt.PromptTextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Renders a request's two prompts (base and preference stream, ALGORITHM.md section 1) to text and token
 * ids with a model's own chat template and tokenizer. It reads only {@code config.json},
 * {@code tokenizer.json}, {@code tokenizer_config.json} (with {@code chat_template.jinja}) and
 * {@code generation_config.json}: never the weights, so it works on a folder that has none. A GGUF file gives
 * all of these from its metadata.
 * {@link AmuletModel} uses one for every request.
 */
public final class PromptRenderer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PromptRenderer.class);

    private final Path folder;
    private final ModelConfig config;
    private final HfTokenizer tokenizer;
    private final ChatFormatter formatter;
    private final boolean hasChatTemplate;
    private final Set<Integer> eosTokenIds;
    private final String defaultSystem;

    private PromptRenderer(Path folder, ModelConfig config, HfTokenizer tokenizer, ChatFormatter formatter,
                           boolean hasChatTemplate, Set<Integer> eosTokenIds) {
        this.folder = folder;
        this.config = config;
        this.tokenizer = tokenizer;
        this.formatter = formatter;
        this.hasChatTemplate = hasChatTemplate;
        this.eosTokenIds = eosTokenIds;
        this.defaultSystem = formatter == null ? null : DefaultSystemMessage.find(formatter).orElse(null);
    }

    /**
     * Loads the prompt side of a local model folder.
     *
     * @throws IOException              when a file cannot be read
     * @throws IllegalArgumentException naming the file and field when {@code config.json}, the tokenizer or the
     *                                  chat template is missing or malformed
     */
    public static PromptRenderer load(Path folder) throws IOException {
        Objects.requireNonNull(folder, "folder");
        if (GgufModel.isGguf(folder.toString()) && Files.isRegularFile(folder)) {
            try (GgufModel gguf = GgufModel.open(folder)) {
                return load(gguf);
            }
        }
        return load(folder, ModelConfigReader.readFolder(folder));
    }

    /**
     * Loads the prompt side of a local model folder whose decoder configuration is already known (a reward model's
     * body, whose {@code config.json} names a sequence-classification architecture).
     */
    public static PromptRenderer load(Path folder, ModelConfig config) throws IOException {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(config, "config");
        TokenizerConfig tokenizerConfig = TokenizerConfig.readFolder(folder);
        HfTokenizer tokenizer = HfTokenizer.load(folder);
        return create(folder, config, tokenizerConfig, tokenizer, GenerationDefaults.readFolder(folder).eosTokenIds(),
                tokenizerConfig.source() == null ? folder + "/tokenizer_config.json" : tokenizerConfig.source().toString());
    }

    /**
     * Loads the prompt side of an open GGUF model: the tokenizer and chat template built from its
     * {@code tokenizer.*} metadata (see {@link io.github.amulet4j.formats.gguf.GgufTokenizer}).
     */
    public static PromptRenderer load(GgufModel gguf) throws IOException {
        return load(gguf, null);
    }

    /**
     * {@link #load(GgufModel)} with the tokenizer's JSON kept in {@code cache} (null: none; see
     * {@link TokenizerJsonCache}).
     */
    public static PromptRenderer load(GgufModel gguf, TokenizerJsonCache cache) throws IOException {
        Path file = gguf.file().path();
        HfTokenizer tokenizer = HfTokenizer.fromGguf(gguf::tokenizerSpec, file, cache);
        return create(file, gguf.config(), tokenizer.config(), tokenizer, List.of(),
                file + " (metadata 'tokenizer.chat_template')");
    }

    private static PromptRenderer create(Path folder, ModelConfig config, TokenizerConfig tokenizerConfig,
                                         HfTokenizer tokenizer, List<Integer> generationEos, String templateSource) {
        try {
            String template = tokenizerConfig.chatTemplate();
            ChatFormatter formatter = template == null ? null : ChatTemplate.builder(template, templateSource)
                    .bosToken(tokenizerConfig.bosToken()).eosToken(tokenizerConfig.eosToken())
                    .padToken(tokenizerConfig.padToken()).unkToken(tokenizerConfig.unkToken()).build();
            if (template == null) {
                LOG.info("{} has no chat_template; prompts are the plain text (system, blank line, question)", folder);
            }
            Set<Integer> eos = new LinkedHashSet<>(generationEos);
            eos.addAll(config.eosTokenIds());
            if (tokenizer.eosTokenId() >= 0) {
                eos.add(tokenizer.eosTokenId());
            }
            eos.removeIf(id -> id < 0 || id >= config.vocabSize());
            return new PromptRenderer(folder, config, tokenizer, formatter, template != null,
                    Collections.unmodifiableSet(eos));
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * Loads the prompt side of the model {@code options} names: a local folder, or a Hub id whose config and
     * tokenizer files (not the weights) are fetched into the Hugging Face cache.
     */
    public static PromptRenderer load(ModelOptions options) throws IOException {
        return load(ModelFiles.resolve(options, false));
    }

    /** Both prompts of a single question without a system text. */
    public PromptPair render(String question, Preference preference) {
        return render(Conversation.of(question), preference, PromptStyle.DEFAULT);
    }

    /** Both prompts of a conversation with {@code preference} in the preference stream. */
    public PromptPair render(Conversation conversation, Preference preference, PromptStyle style) {
        Objects.requireNonNull(preference, "preference");
        PromptTextBuilder prompts = new PromptTextBuilder(formatter, style, defaultSystem);
        List<ChatMessage> messages = conversation.messages();
        PromptTextBuilder.Texts text = prompts.build(messages, preference);
        return new PromptPair(encode(text.base()), encode(text.preference()));
    }

    /**
     * The prompts {@code method} decodes, rendered and encoded in one pass: both streams for methods that need both,
     * otherwise only the one it reads (the other is null).
     */
    public PromptPair renderFor(AlignmentMethod method, Conversation conversation, Preference preference,
                                PromptStyle style) {
        if (preference == null || !method.needsPreference()) {
            return new PromptPair(renderBase(conversation, style), null);
        }
        if (method.needsBase()) {
            return render(conversation, preference, style);
        }
        PromptTextBuilder prompts = new PromptTextBuilder(formatter, style, defaultSystem);
        return new PromptPair(null, encode(prompts.render(prompts.preferenceConversation(conversation.messages(),
                preference))));
    }

    /** The base prompt alone (the conversation as given), for requests decoded with {@code base}. */
    public TokenizedPrompt renderBase(Conversation conversation, PromptStyle style) {
        PromptTextBuilder prompts = new PromptTextBuilder(formatter, style, defaultSystem);
        return encode(prompts.render(prompts.baseConversation(conversation.messages())));
    }

    /**
     * A whole conversation as the chat template renders it without a generation prompt (a finished exchange, as a
     * reward model reads it), encoded.
     *
     * @throws IllegalStateException when the model has no chat template
     */
    public TokenizedPrompt renderConversation(List<ChatMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        if (formatter == null) {
            throw new IllegalStateException(folder + " has no chat template: a conversation cannot be rendered as the"
                    + " model was trained to read it");
        }
        return encode(formatter.render(messages, false));
    }

    private TokenizedPrompt encode(String text) {
        boolean templateBos = formatter != null && formatter.emitsBos(text);
        return new TokenizedPrompt(text, tokenizer.encodePrompt(text, templateBos));
    }

    /** The model folder (the file, for a GGUF model). */
    public Path folder() {
        return folder;
    }

    /** The model's {@code config.json}. */
    public ModelConfig config() {
        return config;
    }

    /** The tokenizer. */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The system text the chat template inserts when a conversation has none (Qwen2.5's "You are Qwen, ..."), found
     * from the template ({@link DefaultSystemMessage}); the preference stream's system message is then this text,
     * a space and the preference (default prompt style).
     */
    public java.util.Optional<String> defaultSystem() {
        return java.util.Optional.ofNullable(defaultSystem);
    }

    /** Whether the model has a chat template (otherwise prompts are plain text). */
    public boolean hasChatTemplate() {
        return hasChatTemplate;
    }

    /**
     * End-of-sequence ids: {@code generation_config.json}'s {@code eos_token_id}, then {@code config.json}'s,
     * then the tokenizer's EOS token (ids outside the model's vocabulary dropped).
     */
    public Set<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    /** Releases the tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
