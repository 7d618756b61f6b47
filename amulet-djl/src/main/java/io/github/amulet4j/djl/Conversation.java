package io.github.amulet4j.djl;

import io.github.amulet4j.prompt.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.ToIntFunction;

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

    /**
     * This conversation without as many of its oldest turns as needed for its prompt to take at most {@code budget}
     * tokens: whole exchanges (a user turn and the answer after it) are dropped from the start; the system text and
     * the last turn are always kept (and the preference, which is not part of a conversation, is never touched:
     * {@code promptTokens} counts the prompt with it). Returns this conversation when it fits.
     *
     * @param budget       most prompt tokens allowed
     * @param promptTokens the tokens of the prompt a conversation renders to (for Amulet, the longer of the two streams)
     * @throws IllegalArgumentException when even the last turn alone (with the system text) takes more than
     *                                  {@code budget} tokens, naming both numbers
     */
    public Conversation trimmedTo(int budget, ToIntFunction<Conversation> promptTokens) {
        Objects.requireNonNull(promptTokens, "promptTokens");
        Conversation c = this;
        int tokens = promptTokens.applyAsInt(c);
        while (tokens > budget) {
            if (c.turns.size() <= 1) {
                throw new IllegalArgumentException("the prompt takes " + tokens + " tokens with only the last turn"
                        + (system == null ? "" : " and the system text") + ", more than the budget of " + budget
                        + " tokens");
            }
            int drop = c.turns.get(0).role().equals("user") && c.turns.get(1).role().equals("assistant") ? 2 : 1;
            drop = Math.min(drop, c.turns.size() - 1);
            c = new Conversation(system, c.turns.subList(drop, c.turns.size()));
            tokens = promptTokens.applyAsInt(c);
        }
        return c;
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
