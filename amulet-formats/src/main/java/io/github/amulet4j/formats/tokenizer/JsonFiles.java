package io.github.amulet4j.formats.tokenizer;

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

/** Reading JSON objects from files with errors that name the file and field. */
public final class JsonFiles {

    private JsonFiles() {
    }

    public static JsonObject readObject(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement el = JsonParser.parseReader(r);
            if (el == null || !el.isJsonObject()) {
                throw new TokenizerFormatException(file + ": expected a JSON object");
            }
            return el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new TokenizerFormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public static boolean has(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e != null && !e.isJsonNull();
    }

    public static TokenizerFormatException wrong(Path file, String field, String expected, JsonElement found) {
        return new TokenizerFormatException(file + ": field '" + field + "' must be " + expected + ", found " + found);
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
