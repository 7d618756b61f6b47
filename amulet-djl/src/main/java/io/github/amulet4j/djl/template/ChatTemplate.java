package io.github.amulet4j.djl.template;

import io.github.amulet4j.jinja.JinjaTemplate;
import io.github.amulet4j.jinja.TemplateException;
import io.github.amulet4j.jinja.TemplateLimits;

import io.github.amulet4j.prompt.ChatFormatter;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.SystemRoleRejectedException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face chat template ({@code chat_template} of {@code tokenizer_config.json}) as a
 * {@link ChatFormatter}: renders {@code messages} (a list of {@code {role, content}} dicts),
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, {@code pad_token},
 * {@code unk_token} and any extra variables, exactly as {@code tokenizer.apply_chat_template} does.
 *
 * <pre>{@code
 * ChatTemplate template = ChatTemplate.builder(source, "model/tokenizer_config.json")
 *         .bosToken("<s>").eosToken("</s>").build();
 * String prompt = template.render(List.of(ChatMessage.user("Hi")), true);
 * }</pre>
 */
public final class ChatTemplate implements ChatFormatter {

    private final JinjaTemplate template;
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final String unkToken;
    private final Map<String, Object> extraVariables;
    private final Clock clock;

    private ChatTemplate(Builder b) {
        this.template = JinjaTemplate.compile(b.source, b.sourceName, b.limits);
        this.bosToken = b.bosToken;
        this.eosToken = b.eosToken;
        this.padToken = b.padToken;
        this.unkToken = b.unkToken;
        this.extraVariables = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.extraVariables));
        this.clock = b.clock;
    }

    /** A builder for the template {@code source}, read from {@code sourceName} (named in errors). */
    public static Builder builder(String source, String sourceName) {
        return new Builder(source, sourceName);
    }

    /**
     * The prompt text for {@code messages}.
     *
     * @throws SystemRoleRejectedException when the template raises an error for a conversation with a system
     *                                     message and renders the same conversation without its system messages
     *                                     (so the system role is what it rejects; the caller may fold the system
     *                                     text into the first user turn)
     * @throws TemplateException           for any other template error
     */
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /** As {@link #render(List, boolean)}, with extra template variables (for example {@code tools}). */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        Objects.requireNonNull(messages, "messages");
        try {
            return renderAsIs(messages, addGenerationPrompt, extra);
        } catch (TemplateException e) {
            List<ChatMessage> withoutSystem = messages.stream().filter(m -> !m.role().equals("system")).toList();
            if (withoutSystem.size() == messages.size() || !e.isRaisedByTemplate()) {
                throw e;
            }
            try {
                renderAsIs(withoutSystem, addGenerationPrompt, extra);
            } catch (TemplateException withoutSystemToo) {
                e.addSuppressed(withoutSystemToo);
                throw e; // not the system role alone: the conversation fails without it as well
            }
            throw new SystemRoleRejectedException(
                    "the chat template " + template.sourceName() + " rejects the system role (it renders the "
                            + "conversation without the system message): " + e.templateMessage(), e);
        }
    }

    private String renderAsIs(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        List<Object> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> dict = new LinkedHashMap<>();
            dict.put("role", m.role());
            dict.put("content", m.content());
            list.add(dict);
        }
        Map<String, Object> context = new LinkedHashMap<>(extraVariables);
        context.putAll(extra);
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        context.put("pad_token", padToken);
        context.put("unk_token", unkToken);
        return template.render(context, clock);
    }

    /** Whether {@code rendered} starts with the BOS token (so the tokenizer must not add another). */
    @Override
    public boolean emitsBos(String rendered) {
        return bosToken != null && !bosToken.isEmpty() && rendered.startsWith(bosToken);
    }

    /** The BOS token string given to the builder, or {@code null}. */
    public String bosToken() {
        return bosToken;
    }

    /** Builds a {@link ChatTemplate}; special tokens default to {@code null} (None in the template). */
    public static final class Builder {
        private final String source;
        private final String sourceName;
        private String bosToken;
        private String eosToken;
        private String padToken;
        private String unkToken;
        private final Map<String, Object> extraVariables = new LinkedHashMap<>();
        private Clock clock = Clock.systemDefaultZone();
        private TemplateLimits limits = TemplateLimits.defaults();

        private Builder(String source, String sourceName) {
            this.source = Objects.requireNonNull(source, "source");
            this.sourceName = Objects.requireNonNull(sourceName, "sourceName");
        }

        public Builder bosToken(String token) {
            this.bosToken = token;
            return this;
        }

        public Builder eosToken(String token) {
            this.eosToken = token;
            return this;
        }

        public Builder padToken(String token) {
            this.padToken = token;
            return this;
        }

        public Builder unkToken(String token) {
            this.unkToken = token;
            return this;
        }

        /** A variable passed on every render (as extra keyword arguments to {@code apply_chat_template}). */
        public Builder variable(String name, Object value) {
            JinjaTemplate.toValue(value, name, 0);
            extraVariables.put(Objects.requireNonNull(name, "name"), value);
            return this;
        }

        /** The clock {@code strftime_now} reads (the system clock by default). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The limits the template parses and renders under (a chat template comes with the model, so it is
         * untrusted: {@link TemplateLimits#defaults()} by default); going over one is a
         * {@link io.github.amulet4j.jinja.TemplateLimitException} naming the template, the line and the limit.
         */
        public Builder limits(TemplateLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** @throws TemplateException when the template does not parse (or nests deeper than its limits allow) */
        public ChatTemplate build() {
            return new ChatTemplate(this);
        }
    }
}
