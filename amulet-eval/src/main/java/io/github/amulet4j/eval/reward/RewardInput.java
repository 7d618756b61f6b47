package io.github.amulet4j.eval.reward;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.eval.RowKey;
import io.github.amulet4j.prompt.ChatMessage;

import java.util.List;

/**
 * One eval result row as a reward model reads it, as the paper's {@code evals/rm_evals.py} builds it: the user turn is
 * the question, a space and the preference's text, the assistant turn the generated answer.
 *
 * @param key      the row's key (index, method, preference)
 * @param row      the row as read
 * @param messages the two messages given to the reward model
 * @param source   the file the row was read from
 * @param line     its line there (1-based)
 */
public record RewardInput(RowKey key, JsonObject row, List<ChatMessage> messages, String source, int line) {

    /**
     * The reward input of {@code row}, line {@code line} of {@code source}.
     *
     * @throws IllegalArgumentException naming the file, line and field when a field the reward model needs is missing
     *                                  or not text
     */
    public static RewardInput of(JsonObject row, String source, int line) {
        int index = integer(row, "index", source, line);
        String method = text(row, "method", source, line);
        String preference = text(row, "preference", source, line);
        String question = text(row, "question", source, line);
        String answer = text(row, "text", source, line);
        String preferenceText = text(row, "preference_text", source, line);
        return new RewardInput(new RowKey(index, method, preference), row,
                List.of(ChatMessage.user(question + " " + preferenceText), ChatMessage.assistant(answer)), source, line);
    }

    /** Where the row was read: {@code file, line N} (the source alone when it has no lines, a Spark dataset). */
    public String where() {
        return line > 0 ? source + ", line " + line : source;
    }

    /** The conversation the reward model scores. */
    public Conversation conversation() {
        return Conversation.of(null, messages);
    }

    /** The messages as a JSON array of {@code {role, content}} objects, for the output row. */
    public JsonArray messagesJson() {
        JsonArray a = new JsonArray();
        for (ChatMessage m : messages) {
            JsonObject o = new JsonObject();
            o.addProperty("role", m.role());
            o.addProperty("content", m.content());
            a.add(o);
        }
        return a;
    }

    private static String text(JsonObject row, String field, String source, int line) {
        JsonElement e = row.get(field);
        if (e == null || e.isJsonNull() || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(source + ", line " + line + ": field '" + field + "' must be text"
                    + (e == null ? " (missing; is this an eval results file?)" : ", found " + e));
        }
        return e.getAsString();
    }

    private static int integer(JsonObject row, String field, String source, int line) {
        JsonElement e = row.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()
                || e.getAsDouble() != Math.rint(e.getAsDouble())) {
            throw new IllegalArgumentException(source + ", line " + line + ": field '" + field + "' must be an integer"
                    + (e == null ? " (missing; is this an eval results file?)" : ", found " + e));
        }
        return e.getAsInt();
    }
}
