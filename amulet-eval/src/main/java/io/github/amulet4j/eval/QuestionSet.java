package io.github.amulet4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A question set in the paper's format: a JSON array of {@code {"index": int, "question": string}}
 * objects (other fields are ignored). Indices must be unique: they key the rows of an eval run.
 */
public final class QuestionSet {

    private QuestionSet() {
    }

    /**
     * Reads and validates a question set.
     *
     * @throws IllegalArgumentException naming the file, the entry and what was expected, when the format is wrong
     * @throws IOException              when the file cannot be read
     */
    public static List<Question> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("dataset " + file + " does not exist or is not a file");
        }
        JsonElement root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(reader);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("dataset " + file + " is not valid JSON (" + syntaxError(e)
                    + "); expected a JSON array of {\"index\": N, \"question\": \"...\"}"
                    + (file.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".csv") ? " (CSV is not read)" : ""), e);
        }
        if (!root.isJsonArray()) {
            throw new IllegalArgumentException("dataset " + file + ": expected a JSON array of "
                    + "{\"index\": N, \"question\": \"...\"} objects, found " + kind(root));
        }
        JsonArray array = root.getAsJsonArray();
        List<Question> questions = new ArrayList<>(array.size());
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            JsonElement e = array.get(i);
            String where = "dataset " + file + ", entry " + i;
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(where + ": expected an object with \"index\" and \"question\", found " + kind(e));
            }
            JsonObject o = e.getAsJsonObject();
            JsonElement index = o.get("index");
            if (index == null || !index.isJsonPrimitive() || !index.getAsJsonPrimitive().isNumber()) {
                throw new IllegalArgumentException(where + ": \"index\" must be an integer");
            }
            double value = index.getAsDouble();
            if (value != Math.rint(value) || value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": \"index\" must be an integer, got " + index);
            }
            JsonElement question = o.get("question");
            if (question == null || !question.isJsonPrimitive() || !((JsonPrimitive) question).isString()) {
                throw new IllegalArgumentException(where + ": \"question\" must be a string");
            }
            int idx = (int) value;
            if (!seen.add(idx)) {
                throw new IllegalArgumentException(where + ": duplicate index " + idx + " (indices key the result rows)");
            }
            questions.add(new Question(idx, question.getAsString()));
        }
        return List.copyOf(questions);
    }

    private static String kind(JsonElement e) {
        if (e.isJsonArray()) {
            return "an array";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        if (e.isJsonNull()) {
            return "null";
        }
        return "a " + (e.getAsJsonPrimitive().isString() ? "string" : e.getAsJsonPrimitive().isNumber() ? "number" : "boolean");
    }

    private static final java.util.regex.Pattern POSITION = java.util.regex.Pattern.compile("line (\\d+) column (\\d+)");

    /** Where the JSON parser gave up, in our words (Gson's message names its own API and a web page). */
    private static String syntaxError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            java.util.regex.Matcher m = POSITION.matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                return "syntax error at line " + m.group(1) + ", column " + m.group(2);
            }
        }
        return "syntax error";
    }
}
