package io.github.amulet4j.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the base and preference prompt texts of a request (ALGORITHM.md section 1).
 *
 * <ul>
 *   <li>base stream: the conversation as given; preference stream: the same with the preference in the
 *       system message, {@code S + " " + P} when a system text {@code S} exists, otherwise a new system
 *       message {@code P} ({@link PromptStyle#DEFAULT}); a template with a default system message of its own
 *       ({@link DefaultSystemMessage}, e.g. Qwen2.5's) gives that default as {@code S} when the conversation has
 *       none, so the preference stream's system message is {@code D + " " + P} and the streams differ by the
 *       preference only;</li>
 *   <li>{@link PromptStyle#PAPER}: the system text is the paper's system prompt with {@code {preference}}
 *       replaced by {@code P} (preference stream) or by {@code ""} (base stream, trailing space kept), after
 *       {@code S + " "} when the conversation has its own system text;</li>
 *   <li>several system messages are joined with {@code " "} into one, placed first;</li>
 *   <li>a template that rejects the system role ({@link SystemRoleRejectedException}): the system text
 *       goes in front of the first user message, separated by {@code "\n\n"}; when that fails too, a
 *       {@link PromptRenderException} reports both errors;</li>
 *   <li>no template ({@code null} formatter): {@link PlainFormatter}, i.e. {@code S + "\n\n" + question}.</li>
 * </ul>
 * Rendering asks for the assistant generation prompt ({@code add_generation_prompt = true}). Multi-turn
 * conversations (a chat's history) keep every turn in both streams.
 */
public final class PromptTextBuilder {

    private static final Logger LOG = LoggerFactory.getLogger(PromptTextBuilder.class);

    /**
     * The two prompt texts of a request.
     *
     * @param base       text of the base stream
     * @param preference text of the preference stream
     */
    public record Texts(String base, String preference) {
    }

    private final ChatFormatter formatter;
    private final PromptStyle style;
    private final String defaultSystem;

    /**
     * Prompts with the template's default system message found from the template itself
     * ({@link DefaultSystemMessage#find}).
     *
     * @param formatter the model's chat template, or {@code null} for a model without one
     * @param style     how the preference enters the system message
     */
    public PromptTextBuilder(ChatFormatter formatter, PromptStyle style) {
        this(formatter, style, formatter == null ? null : DefaultSystemMessage.find(formatter).orElse(null));
    }

    /**
     * Prompts with a default system message already found (to find it once per template).
     *
     * @param formatter     the model's chat template, or {@code null} for a model without one
     * @param style         how the preference enters the system message
     * @param defaultSystem the template's default system text, or {@code null} when it has none
     */
    public PromptTextBuilder(ChatFormatter formatter, PromptStyle style, String defaultSystem) {
        this.formatter = formatter == null ? PlainFormatter.INSTANCE : formatter;
        this.style = Objects.requireNonNull(style, "style");
        this.defaultSystem = defaultSystem == null || defaultSystem.isBlank() ? null : defaultSystem;
    }

    /** Default style. */
    public PromptTextBuilder(ChatFormatter formatter) {
        this(formatter, PromptStyle.DEFAULT);
    }

    public ChatFormatter formatter() {
        return formatter;
    }

    public PromptStyle style() {
        return style;
    }

    /** The template's default system text used as {@code S} of a conversation without one, if any. */
    public java.util.Optional<String> defaultSystem() {
        return java.util.Optional.ofNullable(defaultSystem);
    }

    /** Both prompt texts for a single question with an optional system text {@code system} (may be null). */
    public Texts build(String system, String question, Preference preference) {
        Objects.requireNonNull(question, "question");
        List<ChatMessage> conv = new ArrayList<>();
        if (system != null) {
            conv.add(ChatMessage.system(system));
        }
        conv.add(ChatMessage.user(question));
        return build(conv, preference);
    }

    /** Both prompt texts for a conversation (system, user and assistant turns; the last is usually a user turn). */
    public Texts build(List<ChatMessage> conversation, Preference preference) {
        return new Texts(render(baseConversation(conversation)),
                render(preferenceConversation(conversation, preference)));
    }

    /** The base stream's messages: the conversation as given (paper style: with the paper's system prompt). */
    public List<ChatMessage> baseConversation(List<ChatMessage> conversation) {
        String s = systemText(conversation);
        String system = switch (style) {
            case DEFAULT -> s;
            case PAPER -> prefix(s) + PreferencePresets.paperSystemPrompt("");
        };
        return withSystem(system, conversation);
    }

    /**
     * The preference stream's messages: the conversation with {@code preference} in the system message (after the
     * template's default system text when the conversation has none, default style).
     */
    public List<ChatMessage> preferenceConversation(List<ChatMessage> conversation, Preference preference) {
        Objects.requireNonNull(preference, "preference");
        String s = systemText(conversation);
        String system = switch (style) {
            case DEFAULT -> prefix(s != null ? s : defaultSystem) + preference.text();
            case PAPER -> prefix(s) + PreferencePresets.paperSystemPrompt(preference.text());
        };
        return withSystem(system, conversation);
    }

    /**
     * Renders one stream's messages with the generation prompt; folds the system text into the first user
     * turn when the template rejects the system role.
     */
    public String render(List<ChatMessage> messages) {
        try {
            return formatter.render(messages, true);
        } catch (SystemRoleRejectedException rejected) {
            LOG.debug("chat template rejects the system role; folding the system text into the first user turn");
            try {
                return formatter.render(foldSystem(messages), true);
            } catch (RuntimeException retry) {
                PromptRenderException e = new PromptRenderException(rejected.getMessage()
                        + "; rendering again with the system text in front of the first user message failed too: "
                        + retry.getMessage(), retry);
                e.addSuppressed(rejected);
                throw e;
            }
        }
    }

    /** The messages with the system text moved in front of the first user turn ({@code "\n\n"} between). */
    static List<ChatMessage> foldSystem(List<ChatMessage> messages) {
        String s = systemText(messages);
        List<ChatMessage> out = new ArrayList<>();
        boolean folded = s == null;
        for (ChatMessage m : messages) {
            if ("system".equals(m.role())) {
                continue;
            }
            if (!folded && "user".equals(m.role())) {
                out.add(ChatMessage.user(s + "\n\n" + m.content()));
                folded = true;
            } else {
                out.add(m);
            }
        }
        if (!folded) {
            out.add(0, ChatMessage.user(s));
        }
        return out;
    }

    private static String prefix(String system) {
        return system == null ? "" : system + " ";
    }

    /** All system messages' text joined with " ", or null if there is none. */
    private static String systemText(List<ChatMessage> conversation) {
        Objects.requireNonNull(conversation, "conversation");
        List<String> parts = new ArrayList<>();
        for (ChatMessage m : conversation) {
            if ("system".equals(Objects.requireNonNull(m, "message").role())) {
                parts.add(m.content());
            }
        }
        return parts.isEmpty() ? null : String.join(" ", parts);
    }

    private static List<ChatMessage> withSystem(String system, List<ChatMessage> conversation) {
        List<ChatMessage> out = new ArrayList<>();
        if (system != null) {
            out.add(ChatMessage.system(system));
        }
        for (ChatMessage m : conversation) {
            if (!"system".equals(m.role())) {
                out.add(m);
            }
        }
        return List.copyOf(out);
    }
}
