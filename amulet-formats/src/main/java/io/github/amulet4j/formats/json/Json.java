package io.github.amulet4j.formats.json;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's one JSON helper (over Gson): reading objects from files with errors that name the file and field
 * ({@link JsonFieldException}), and writing compact UTF-8 JSON for command output, results and reports.
 */
public final class Json {

    /** Compact, UTF-8 as is (no HTML escaping), NaN and infinities written as such; null members left out. */
    private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues()
            .create();
    /** As {@link #COMPACT}, with null members written (a rate with no comparisons is {@code null}). */
    private static final Gson COMPACT_WITH_NULLS = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private Json() {
    }

    /** {@code e} as compact JSON, leaving out null members. */
    public static String write(JsonElement e) {
        return COMPACT.toJson(e);
    }

    /** {@code e} as compact JSON, writing null members as {@code null}. */
    public static String writeWithNulls(JsonElement e) {
        return COMPACT_WITH_NULLS.toJson(e);
    }

    /** Token ids as a JSON array. */
    public static JsonArray ids(int[] ids) {
        JsonArray a = new JsonArray(ids.length);
        for (int id : ids) {
            a.add(id);
        }
        return a;
    }

    /** Nanoseconds as seconds rounded to microseconds, so the output stays readable. */
    public static double seconds(long nanos) {
        return Math.round(nanos / 1e3) / 1e6;
    }

    /** The JSON object in {@code file}; throws {@link JsonFieldException} naming the file when it is not one. */
    public static JsonObject readObject(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement el = JsonParser.parseReader(r);
            if (el == null || !el.isJsonObject()) {
                throw new JsonFieldException(file + ": expected a JSON object");
            }
            return el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new JsonFieldException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public static boolean has(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e != null && !e.isJsonNull();
    }

    public static JsonFieldException wrong(Path file, String field, String expected, JsonElement found) {
        return new JsonFieldException(file + ": field '" + field + "' must be " + expected + ", found " + found);
    }

    public static Boolean optBool(JsonObject o, String k, Path file) {
        if (!has(o, k)) {
            return null;
        }
        JsonElement e = o.get(k);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw wrong(file, k, "true or false", e);
        }
        return e.getAsBoolean();
    }

    public static Integer optInt(JsonObject o, String k, Path file) {
        if (!has(o, k)) {
            return null;
        }
        return asInt(o.get(k), k, file);
    }

    public static int asInt(JsonElement e, String k, Path file) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrong(file, k, "an integer", e);
        }
        try {
            return e.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
        } catch (ArithmeticException ex) {
            throw wrong(file, k, "an integer", e);
        }
    }

    /** A possibly huge integer (transformers writes 1e30 for "no limit"), clamped to Long.MAX_VALUE. */
    public static Long optLongClamped(JsonObject o, String k, Path file) {
        if (!has(o, k)) {
            return null;
        }
        JsonElement e = o.get(k);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrong(file, k, "an integer", e);
        }
        BigDecimal v = e.getAsJsonPrimitive().getAsBigDecimal();
        if (v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0) {
            return Long.MAX_VALUE;
        }
        return v.longValue();
    }

    public static Double optDouble(JsonObject o, String k, Path file) {
        if (!has(o, k)) {
            return null;
        }
        JsonElement e = o.get(k);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrong(file, k, "a number", e);
        }
        return e.getAsDouble();
    }

    public static List<Integer> intOrList(JsonObject o, String k, Path file) {
        List<Integer> out = new ArrayList<>();
        if (!has(o, k)) {
            return out;
        }
        JsonElement e = o.get(k);
        if (e.isJsonArray()) {
            for (JsonElement x : e.getAsJsonArray()) {
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                    throw wrong(file, k, "an integer or a list of integers", e);
                }
                out.add(asInt(x, k, file));
            }
            return out;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrong(file, k, "an integer or a list of integers", e);
        }
        out.add(asInt(e, k, file));
        return out;
    }
}
