package io.github.amulet4j.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PromptTextBuilderTest {

    /** A template that shows roles: "<role>content|" per message, then "<assistant>" when asked. */
    static final ChatFormatter TAGGED = (messages, gen) -> messages.stream()
            .map(m -> "<" + m.role() + ">" + m.content() + "|").collect(Collectors.joining()) + (gen ? "<assistant>" : "");

    /** The same, but it raises on a system message (like Gemma or Mistral v0.1 templates). */
    static final ChatFormatter NO_SYSTEM = (messages, gen) -> {
        if (messages.stream().anyMatch(m -> m.role().equals("system"))) {
            throw new SystemRoleRejectedException("System role not supported", null);
        }
        return TAGGED.render(messages, gen);
    };

    static final Preference P = Preference.text("Be brief.");

    @Test
    void defaultStyleAddsThePreferenceToTheSystemMessage() {
        PromptTextBuilder tsp = new PromptTextBuilder(TAGGED);
        PromptTextBuilder.Texts r = tsp.build("You help.", "Why?", P);
        assertEquals("<system>You help.|<user>Why?|<assistant>", r.base());
        assertEquals("<system>You help. Be brief.|<user>Why?|<assistant>", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("<user>Why?|<assistant>", r.base());
        assertEquals("<system>Be brief.|<user>Why?|<assistant>", r.preference());
    }

    @Test
    void rejectedSystemRoleIsFoldedIntoTheFirstUserTurn() {
        PromptTextBuilder tsp = new PromptTextBuilder(NO_SYSTEM);
        PromptTextBuilder.Texts r = tsp.build("You help.", "Why?", P);
        assertEquals("<user>You help.\n\nWhy?|<assistant>", r.base());
        assertEquals("<user>You help. Be brief.\n\nWhy?|<assistant>", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("<user>Why?|<assistant>", r.base());
        assertEquals("<user>Be brief.\n\nWhy?|<assistant>", r.preference());
    }

    @Test
    void noTemplateJoinsSystemAndQuestionWithABlankLine() {
        PromptTextBuilder tsp = new PromptTextBuilder(null);
        PromptTextBuilder.Texts r = tsp.build("You help.", "Why?", P);
        assertEquals("You help.\n\nWhy?", r.base());
        assertEquals("You help. Be brief.\n\nWhy?", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("Why?", r.base());
        assertEquals("Be brief.\n\nWhy?", r.preference());
    }

    @Test
    void paperStyleFillsThePaperSystemPrompt() {
        PromptTextBuilder tsp = new PromptTextBuilder(TAGGED, PromptStyle.PAPER);
        Preference creative = Preference.of("creative");
        PromptTextBuilder.Texts r = tsp.build(null, "Why?", creative);
        String head = PreferencePresets.PAPER_SYSTEM_PROMPT.replace("{preference}", "");
        assertTrue(head.endsWith("advice. "), "the trailing space stays: '" + head + "'");
        assertEquals("<system>" + head + "|<user>Why?|<assistant>", r.base());
        assertEquals("<system>" + head + "Your answer should be creative as much as possible.|<user>Why?|<assistant>",
                r.preference());
    }

    @Test
    void multiTurnHistoryIsKeptInBothStreams() {
        PromptTextBuilder tsp = new PromptTextBuilder(NO_SYSTEM);
        List<ChatMessage> conv = List.of(ChatMessage.system("S1"), ChatMessage.user("q1"), ChatMessage.assistant("a1"),
                ChatMessage.system("S2"), ChatMessage.user("q2"));
        PromptTextBuilder.Texts r = tsp.build(conv, P);
        assertEquals("<user>S1 S2\n\nq1|<assistant>a1|<user>q2|<assistant>", r.base());
        assertEquals("<user>S1 S2 Be brief.\n\nq1|<assistant>a1|<user>q2|<assistant>", r.preference());
        assertEquals(List.of(ChatMessage.system("S1 S2 Be brief."), ChatMessage.user("q1"), ChatMessage.assistant("a1"),
                ChatMessage.user("q2")), tsp.preferenceConversation(conv, P));
    }

    /** Like Qwen2.5's templates: a conversation without a system message gets "<system>D|". */
    static final String D = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    static final ChatFormatter WITH_DEFAULT = (messages, gen) -> (messages.stream().anyMatch(m -> m.role().equals("system"))
            ? "" : "<system>" + D + "|") + TAGGED.render(messages, gen);

    @Test
    void templateDefaultSystemMessageIsFoundFromTheTemplate() {
        assertEquals(java.util.Optional.of(D), DefaultSystemMessage.find(WITH_DEFAULT));
        assertEquals(java.util.Optional.empty(), DefaultSystemMessage.find(TAGGED));
        assertEquals(java.util.Optional.empty(), DefaultSystemMessage.find(NO_SYSTEM));
        assertEquals(java.util.Optional.empty(), DefaultSystemMessage.find(PlainFormatter.INSTANCE));
        // a template whose system slot is not where the default goes (it adds the system text elsewhere)
        ChatFormatter elsewhere = (messages, gen) -> "<d>" + D + "|" + TAGGED.render(messages, gen);
        assertEquals(java.util.Optional.empty(), DefaultSystemMessage.find(elsewhere));
        // a template that fails to render at all has no default (and no exception from the probe)
        assertEquals(java.util.Optional.empty(), DefaultSystemMessage.find((m, g) -> {
            throw new IllegalStateException("broken");
        }));
    }

    /** ALGORITHM.md section 1: the default D is the S of both streams, so they differ by the preference only. */
    @Test
    void preferenceStreamKeepsTheTemplateDefaultSystemMessage() {
        PromptTextBuilder tsp = new PromptTextBuilder(WITH_DEFAULT);
        assertEquals(java.util.Optional.of(D), tsp.defaultSystem());
        PromptTextBuilder.Texts r = tsp.build(null, "Why?", P);
        assertEquals("<system>" + D + "|<user>Why?|<assistant>", r.base());
        assertEquals("<system>" + D + " Be brief.|<user>Why?|<assistant>", r.preference());
        // the same as a conversation that states D itself
        assertEquals(new PromptTextBuilder(TAGGED).build(D, "Why?", P), r);
        // a system message of the conversation replaces the default in both streams
        r = tsp.build("You help.", "Why?", P);
        assertEquals("<system>You help.|<user>Why?|<assistant>", r.base());
        assertEquals("<system>You help. Be brief.|<user>Why?|<assistant>", r.preference());
        // the paper style has a system message in both streams: the default never shows
        PromptTextBuilder paper = new PromptTextBuilder(WITH_DEFAULT, PromptStyle.PAPER);
        assertFalse(paper.build(null, "Why?", P).preference().contains(D));
        // a default given by the caller (found once per template)
        assertEquals("<system>X Be brief.|<user>Why?|<assistant>",
                new PromptTextBuilder(TAGGED, PromptStyle.DEFAULT, "X").build(null, "Why?", P).preference());
    }

    /** The template rejects the system role and the folded retry fails too: both errors are reported. */
    @Test
    void failedFallbackReportsBothErrors() {
        ChatFormatter strict = (messages, gen) -> {
            if (messages.stream().anyMatch(m -> m.role().equals("system"))) {
                throw new SystemRoleRejectedException("System role not supported", null);
            }
            if (messages.stream().anyMatch(m -> m.content().contains("\n\n"))) {
                throw new IllegalArgumentException("blank lines are not allowed in a message");
            }
            return TAGGED.render(messages, gen);
        };
        PromptTextBuilder tsp = new PromptTextBuilder(strict);
        PromptRenderException e = assertThrows(PromptRenderException.class, () -> tsp.build(null, "Why?", P));
        assertTrue(e.getMessage().contains("System role not supported")
                && e.getMessage().contains("blank lines are not allowed"), e.getMessage());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertInstanceOf(SystemRoleRejectedException.class, e.getSuppressed()[0]);
        assertEquals("<user>Why?|<assistant>", tsp.render(tsp.baseConversation(List.of(ChatMessage.user("Why?")))));
    }

    @Test
    void presetsAndPreferences() {
        assertEquals(List.of("creative", "sycophantic", "verbose", "complex", "formal", "pleasant", "concise", "uplifting"),
                List.copyOf(PreferencePresets.all().keySet()));
        assertEquals("Your answer should be concise as much as possible.", Preference.of("Concise").text());
        assertEquals("talk like a pirate", Preference.of("talk like a pirate").text());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preference.preset("funny"));
        assertTrue(e.getMessage().contains("creative, sycophantic"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Preference.text("  "));
    }
}
