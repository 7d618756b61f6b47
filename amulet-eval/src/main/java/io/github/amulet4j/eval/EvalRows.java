package io.github.amulet4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rows of an eval run, one JSON object per (index, method, preference): {@code index}, {@code method},
 * {@code preference}, {@code preference_text}, {@code question}, {@code text}, {@code token_ids}, {@code model},
 * {@code prompt_tokens}, {@code new_tokens}, {@code finish_reason}, {@code seconds}, {@code tokens_per_second}
 * (the runner adds {@code batch}); a {@code base} row recorded for another preference also has
 * {@value EvalSummary#COPY_OF}. Whoever runs the plan (this JVM, Spark executors) writes the same rows.
 */
public final class EvalRows {

    private EvalRows() {
    }

    /**
     * The row of a generation.
     *
     * @param nanos the row's share of its batch's wall time
     */
    public static JsonObject row(String modelName, EvalTask t, GenerationResult r, long nanos) {
        JsonObject o = new JsonObject();
        o.addProperty("index", t.question().index());
        o.addProperty("method", t.method().id());
        o.addProperty("preference", t.preferenceName());
        o.addProperty("preference_text", t.preference().text());
        o.addProperty("question", t.question().question());
        o.addProperty("text", r.text());
        o.add("token_ids", ids(r.tokenIds()));
        o.addProperty("model", modelName);
        o.addProperty("prompt_tokens", promptTokens(t.method(), r));
        o.addProperty("new_tokens", r.generatedTokens());
        o.addProperty("finish_reason", r.finishReason().name().toLowerCase(Locale.ROOT));
        o.addProperty("seconds", seconds(nanos));
        o.addProperty("tokens_per_second", nanos > 0 ? Math.round(r.generatedTokens() / (nanos / 1e9) * 100) / 100.0 : 0);
        return o;
    }

    /**
     * The row of a generation of {@code question} under {@code method} and {@code preference} (named
     * {@code preferenceName}).
     *
     * @param nanos the row's share of its batch's wall time
     */
    public static JsonObject row(String modelName, Question question, AlignmentMethod method, String preferenceName,
                                 Preference preference, GenerationResult result, long nanos) {
        return row(modelName, new EvalTask(question, preferenceName, preference, method, List.of()), result, nanos);
    }

    /**
     * The {@code base} row of {@code generated} recorded for another preference: the base stream never holds the
     * preference, so its text is the same; {@value EvalSummary#COPY_OF} names the row that was generated, and its
     * {@code seconds} are 0 so that the time is counted once.
     */
    public static JsonObject baseCopy(JsonObject generated, String name, Preference preference) {
        JsonObject o = generated.deepCopy();
        o.addProperty("preference", name);
        o.addProperty("preference_text", preference.text());
        o.addProperty(EvalSummary.COPY_OF, generated.get("preference").getAsString());
        o.addProperty("seconds", 0.0);
        return o;
    }

    /** For each question index, a generated (not copied) {@code base} row of {@code rows} (the first found). */
    public static Map<Integer, JsonObject> baseRowsByIndex(List<JsonObject> rows) {
        Map<Integer, JsonObject> out = new HashMap<>();
        for (JsonObject row : rows) {
            if (AlignmentMethod.BASE.id().equals(row.get("method").getAsString()) && !row.has(EvalSummary.COPY_OF)) {
                out.putIfAbsent(row.get("index").getAsInt(), row);
            }
        }
        return out;
    }

    /** The prompt tokens of the method's stream: the base prompt for {@code base}, else the preference prompt. */
    static int promptTokens(AlignmentMethod method, GenerationResult result) {
        return method == AlignmentMethod.BASE ? result.basePromptTokens() : result.preferencePromptTokens();
    }

    private static JsonArray ids(int[] ids) {
        JsonArray a = new JsonArray(ids.length);
        for (int id : ids) {
            a.add(id);
        }
        return a;
    }

    /** Seconds rounded to microseconds, so the rows stay readable. */
    private static double seconds(long nanos) {
        return Math.round(nanos / 1e3) / 1e6;
    }
}
