package io.github.amulet4j.djl;

import io.github.amulet4j.prompt.ChatMessage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Conversation#trimmedTo}: oldest exchanges first, never the system text or the last turn. */
class ConversationTest {

    /** One "token" per character of every message, the system text included. */
    static final ToIntFunction<Conversation> CHARS =
            c -> c.messages().stream().mapToInt(m -> m.content().length()).sum();

    static Conversation chat() {
        return Conversation.of("SYS", List.of(ChatMessage.user("u1xx"), ChatMessage.assistant("a1xxxx"),
                ChatMessage.user("u2"), ChatMessage.assistant("a2"), ChatMessage.user("u3last")));
    }

    @Test
    void dropsWholeOldestExchangesUntilItFits() {
        Conversation c = chat();
        assertEquals(3 + 4 + 6 + 2 + 2 + 6, CHARS.applyAsInt(c));
        assertSame(c, c.trimmedTo(23, CHARS), "a conversation that fits is kept as it is");
        Conversation t = c.trimmedTo(22, CHARS);
        assertEquals(List.of(ChatMessage.user("u2"), ChatMessage.assistant("a2"), ChatMessage.user("u3last")), t.turns());
        assertEquals("SYS", t.system().orElseThrow());
        Conversation last = c.trimmedTo(9, CHARS);
        assertEquals(List.of(ChatMessage.user("u3last")), last.turns());
        assertEquals("SYS", last.system().orElseThrow(), "the system text is never dropped");
    }

    @Test
    void aLastTurnThatAloneDoesNotFitIsAnErrorNamingTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chat().trimmedTo(8, CHARS));
        assertTrue(e.getMessage().contains("9 tokens") && e.getMessage().contains("budget of 8"), e.getMessage());
    }
}
