package io.github.amulet4j.eval.judge;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.amulet4j.eval.RowKey;
import io.github.amulet4j.prompt.PreferencePresets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The answers of one or more {@code eval} results files, by (index, method, preference).
 *
 * <p>Read tolerantly: a line that is a JSON object without {@code index} and {@code method} (a run-settings header,
 * or any other non-answer row) is skipped, and so is a partial last line (a run still writing, or killed). An
 * answer row needs {@code index}, {@code method}, {@code preference}, {@code question} and {@code text}
 * ({@code preference_text} too unless the preference is a preset name). The first row of a key in a file wins (as
 * in {@code eval}'s resume); the same key in two files must hold the same answer.
 */
public final class AnswerSet {

    private final Map<RowKey, Answer> answers;
    private final int skippedLines;

    private AnswerSet(Map<RowKey, Answer> answers, int skippedLines) {
        this.answers = answers;
        this.skippedLines = skippedLines;
    }

    /**
     * Reads results files.
     *
     * @throws IllegalArgumentException naming the file, line and field of a row that is not an answer, or two files
     *                                  that disagree on one answer
     */
    public static AnswerSet read(List<Path> files) throws IOException {
        Map<RowKey, Answer> answers = new LinkedHashMap<>();
        int skipped = 0;
        for (Path file : files) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("results file " + file + " does not exist or is not a file");
            }
            String content = Files.readString(file, StandardCharsets.UTF_8);
            List<String> lines = content.lines().toList();
            Set<RowKey> inThisFile = new LinkedHashSet<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) {
                    continue;
                }
                boolean lastUnterminated = i == lines.size() - 1 && !content.endsWith("\n");
                JsonObject row;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (!e.isJsonObject()) {
                        throw new IllegalArgumentException("results file " + file + ", line " + (i + 1)
                                + ": expected a JSON object per line (an eval results file)");
                    }
                    row = e.getAsJsonObject();
                } catch (JsonParseException e) {
                    if (lastUnterminated) {
                        skipped++; // a row being written: the next run reads it
                        continue;
                    }
                    throw new IllegalArgumentException("results file " + file + ", line " + (i + 1)
                            + " is not valid JSON; is it an eval results file?", e);
                }
                if (!row.has("index") && !row.has("method")) {
                    skipped++; // a header or another non-answer row
                    continue;
                }
                Answer a = answer(file, i + 1, row);
                RowKey key = new RowKey(a.index(), a.method(), a.preference());
                if (!inThisFile.add(key)) {
                    continue; // eval keeps the first row of a key
                }
                Answer before = answers.putIfAbsent(key, a);
                if (before != null && !(before.text().equals(a.text()) && before.question().equals(a.question()))) {
                    throw new IllegalArgumentException("two different answers for index " + a.index() + ", method "
                            + a.method() + ", preference " + a.preference() + ": " + before.source() + " and "
                            + a.source() + "; judge one of them at a time");
                }
            }
        }
        return new AnswerSet(Collections.unmodifiableMap(answers), skipped);
    }

    private static Answer answer(Path file, int lineNo, JsonObject row) {
        String where = "results file " + file + ", line " + lineNo;
        int index;
        try {
            index = row.get("index").getAsInt();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(where + ": \"index\" must be an integer", e);
        }
        String method = string(row, "method", where);
        String preference = string(row, "preference", where);
        String preferenceText = row.has("preference_text") && !row.get("preference_text").isJsonNull()
                ? string(row, "preference_text", where)
                : PreferencePresets.find(preference).orElseThrow(() -> new IllegalArgumentException(where
                        + ": \"preference_text\" is missing and '" + preference + "' is not a preset name"));
        return new Answer(index, method, preference, preferenceText, string(row, "question", where),
                string(row, "text", where), file + " line " + lineNo);
    }

    private static String string(JsonObject row, String field, String where) {
        JsonElement e = row.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(where + ": an answer row needs a string \"" + field + "\"");
        }
        return e.getAsString();
    }

    /** The answer of a method to a question under a preference. */
    public Optional<Answer> find(int index, String method, String preference) {
        return Optional.ofNullable(answers.get(new RowKey(index, method, preference)));
    }

    /** Every answer, in reading order. */
    public List<Answer> all() {
        return List.copyOf(answers.values());
    }

    /** Method names, in first-seen order. */
    public Set<String> methods() {
        Set<String> s = new LinkedHashSet<>();
        answers.keySet().forEach(k -> s.add(k.method()));
        return s;
    }

    /** Preference names, in first-seen order. */
    public Set<String> preferences() {
        Set<String> s = new LinkedHashSet<>();
        answers.keySet().forEach(k -> s.add(k.preference()));
        return s;
    }

    /** Lines skipped: headers, other non-answer rows, a partial last line. */
    public int skippedLines() {
        return skippedLines;
    }

    /**
     * Every (question, preference) with an answer of both methods, in reading order of the candidate's answers.
     *
     * @throws IllegalArgumentException when the two answers were given different questions or preferences
     */
    public List<Comparison> comparisons(String candidate, String baseline, Set<String> preferences) {
        List<Comparison> out = new ArrayList<>();
        for (Answer c : answers.values()) {
            if (!c.method().equals(candidate) || !preferences.contains(c.preference())) {
                continue;
            }
            Optional<Answer> b = find(c.index(), baseline, c.preference());
            if (b.isEmpty()) {
                continue;
            }
            if (!c.question().equals(b.get().question())) {
                throw new IllegalArgumentException("index " + c.index() + " has two different questions: "
                        + c.source() + " and " + b.get().source() + "; were they made from the same question set?");
            }
            if (!c.preferenceText().equals(b.get().preferenceText())) {
                throw new IllegalArgumentException("preference '" + c.preference() + "' has two different texts: "
                        + c.source() + " and " + b.get().source());
            }
            out.add(new Comparison(c, b.get()));
        }
        return out;
    }
}
