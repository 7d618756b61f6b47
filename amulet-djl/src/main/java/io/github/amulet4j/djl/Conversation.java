package io.github.amulet4j.djl;

import io.github.amulet4j.prompt.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A conversation to continue: an optional system text and the turns so far (user and assistant,
 * alternating, ending with a user turn). Immutable; {@link #plus} returns a longer copy. The preference is
 * not part of it: {@link AmuletModel} adds it to the preference stream only.
 */
public final class Conversation {

    private final String system;
    private final List<ChatMessage> turns;

    private Conversation(String system, List<ChatMessage> turns) {
        for (ChatMessage m : turns) {
            if (!m.role().equals("user") && !m.role().equals("assistant")) {
                throw new IllegalArgumentException("conversation turns are 'user' or 'assistant', got '" + m.role()
                        + "' (put the system text in Conversation.withSystem)");
            }
        }
        this.system = system;
        this.turns = List.copyOf(turns);
    }

    /** A conversation of one user question, no system text. */
    public static Conversation of(String question) {
        return new Conversation(null, List.of(ChatMessage.user(Objects.requireNonNull(question, "question"))));
    }

    /** A conversation with a system text (may be null) and turns. */
    public static Conversation of(String system, List<ChatMessage> turns) {
        return new Conversation(system, turns);
    }

    /** An empty conversation with no system text. */
    public static Conversation empty() {
        return new Conversation(null, List.of());
    }

    /** This conversation with another system text ({@code null} or blank for none). */
    public Conversation withSystem(String system) {
        return new Conversation(system == null || system.isBlank() ? null : system, turns);
    }

    /** This conversation followed by one more turn. */
    public Conversation plus(ChatMessage turn) {
        List<ChatMessage> longer = new ArrayList<>(turns);
        longer.add(Objects.requireNonNull(turn, "turn"));
        return new Conversation(system, longer);
    }

    /** The system text, if any. */
    public Optional<String> system() {
        return Optional.ofNullable(system);
    }

    /** The user and assistant turns. */
    public List<ChatMessage> turns() {
        return turns;
    }

    /** The messages as a chat template sees them: the system message (if any), then the turns. */
    public List<ChatMessage> messages() {
        List<ChatMessage> all = new ArrayList<>(turns.size() + 1);
        if (system != null) {
            all.add(ChatMessage.system(system));
        }
        all.addAll(turns);
        return all;
    }

    /** Throws when there is nothing to answer. */
    void requireUserLast() {
        if (turns.isEmpty() || !turns.get(turns.size() - 1).role().equals("user")) {
            throw new IllegalArgumentException("a conversation to continue must end with a user turn");
        }
    }

    @Override
    public String toString() {
        return "Conversation[system=" + system + ", turns=" + turns + "]";
    }
}
