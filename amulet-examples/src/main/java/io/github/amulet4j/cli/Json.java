package io.github.amulet4j.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;

/** JSON output of the commands: compact, UTF-8 as is (no HTML escaping). */
final class Json {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    private Json() {
    }

    static String write(JsonElement e) {
        return GSON.toJson(e);
    }

    static JsonArray ids(int[] ids) {
        JsonArray a = new JsonArray(ids.length);
        for (int id : ids) {
            a.add(id);
        }
        return a;
    }

    /** Seconds rounded to microseconds, so the output stays readable. */
    static double seconds(long nanos) {
        return Math.round(nanos / 1e3) / 1e6;
    }
}
