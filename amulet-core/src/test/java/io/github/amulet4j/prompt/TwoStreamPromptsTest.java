package io.github.amulet4j.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TwoStreamPromptsTest {

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
        TwoStreamPrompts tsp = new TwoStreamPrompts(TAGGED);
        TwoStreamPrompts.Rendered r = tsp.build("You help.", "Why?", P);
        assertEquals("<system>You help.|<user>Why?|<assistant>", r.base());
        assertEquals("<system>You help. Be brief.|<user>Why?|<assistant>", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("<user>Why?|<assistant>", r.base());
        assertEquals("<system>Be brief.|<user>Why?|<assistant>", r.preference());
    }

    /** Like Qwen2.5's templates: a default system message when the conversation has none. */
    static final ChatFormatter WITH_DEFAULT = (messages, gen) -> (messages.get(0).role().equals("system") ? ""
            : "<system>You are Qwen.|") + TAGGED.render(messages, gen);

    @Test
    void aTemplatesDefaultSystemMessageStaysInThePreferenceStream() {
        TwoStreamPrompts tsp = new TwoStreamPrompts(WITH_DEFAULT);
        assertEquals("You are Qwen.", tsp.templateDefaultSystem());
        TwoStreamPrompts.Rendered r = tsp.build(null, "Why?", P);
        assertEquals("<system>You are Qwen.|<user>Why?|<assistant>", r.base());
        assertEquals("<system>You are Qwen. Be brief.|<user>Why?|<assistant>", r.preference());
        // the conversation's own system text replaces the default in both streams
        r = tsp.build("You help.", "Why?", P);
        assertEquals("<system>You help.|<user>Why?|<assistant>", r.base());
        assertEquals("<system>You help. Be brief.|<user>Why?|<assistant>", r.preference());
        // templates without a default, or without a system role, have none
        assertEquals(null, new TwoStreamPrompts(TAGGED).templateDefaultSystem());
        assertEquals(null, new TwoStreamPrompts(NO_SYSTEM).templateDefaultSystem());
        assertEquals(null, new TwoStreamPrompts(null).templateDefaultSystem());
    }

    @Test
    void rejectedSystemRoleIsFoldedIntoTheFirstUserTurn() {
        TwoStreamPrompts tsp = new TwoStreamPrompts(NO_SYSTEM);
        TwoStreamPrompts.Rendered r = tsp.build("You help.", "Why?", P);
        assertEquals("<user>You help.\n\nWhy?|<assistant>", r.base());
        assertEquals("<user>You help. Be brief.\n\nWhy?|<assistant>", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("<user>Why?|<assistant>", r.base());
        assertEquals("<user>Be brief.\n\nWhy?|<assistant>", r.preference());
    }

    @Test
    void noTemplateJoinsSystemAndQuestionWithABlankLine() {
        TwoStreamPrompts tsp = new TwoStreamPrompts(null);
        TwoStreamPrompts.Rendered r = tsp.build("You help.", "Why?", P);
        assertEquals("You help.\n\nWhy?", r.base());
        assertEquals("You help. Be brief.\n\nWhy?", r.preference());
        r = tsp.build(null, "Why?", P);
        assertEquals("Why?", r.base());
        assertEquals("Be brief.\n\nWhy?", r.preference());
    }

    @Test
    void paperStyleFillsThePaperSystemPrompt() {
        TwoStreamPrompts tsp = new TwoStreamPrompts(TAGGED, PromptStyle.PAPER);
        Preference creative = Preference.of("creative");
        TwoStreamPrompts.Rendered r = tsp.build(null, "Why?", creative);
        String head = PreferencePresets.PAPER_SYSTEM_PROMPT.replace("{preference}", "");
        assertTrue(head.endsWith("advice. "), "the trailing space stays: '" + head + "'");
        assertEquals("<system>" + head + "|<user>Why?|<assistant>", r.base());
        assertEquals("<system>" + head + "Your answer should be creative as much as possible.|<user>Why?|<assistant>",
                r.preference());
    }

    @Test
    void multiTurnHistoryIsKeptInBothStreams() {
        TwoStreamPrompts tsp = new TwoStreamPrompts(NO_SYSTEM);
        List<ChatMessage> conv = List.of(ChatMessage.system("S1"), ChatMessage.user("q1"), ChatMessage.assistant("a1"),
                ChatMessage.system("S2"), ChatMessage.user("q2"));
        TwoStreamPrompts.Rendered r = tsp.build(conv, P);
        assertEquals("<user>S1 S2\n\nq1|<assistant>a1|<user>q2|<assistant>", r.base());
        assertEquals("<user>S1 S2 Be brief.\n\nq1|<assistant>a1|<user>q2|<assistant>", r.preference());
        assertEquals(List.of(ChatMessage.system("S1 S2 Be brief."), ChatMessage.user("q1"), ChatMessage.assistant("a1"),
                ChatMessage.user("q2")), tsp.preferenceConversation(conv, P));
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
