package io.github.amulet4j.eval.judge;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;

/** The report's JSON: compact, nulls kept (a rate with no comparisons is {@code null}), UTF-8 as is. */
public final class Jsons {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private Jsons() {
    }

    public static String write(JsonElement e) {
        return GSON.toJson(e);
    }
}
