package io.github.amulet4j.server;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses a {@code POST /v1/chat/completions} body into a {@link ChatRequest}: OpenAI's fields
 * ({@code model}, {@code messages}, {@code max_tokens}/{@code max_completion_tokens}, {@code temperature},
 * {@code top_p}, {@code seed}, {@code stop}, {@code n}, {@code stream}, {@code stream_options}) and Amulet's at
 * the top level ({@code preference}, {@code method}, {@code amulet}, {@code ratio}, {@code top_k}). Every bad
 * value is a 400 naming the field; another model name is a 404. Fields OpenAI has and this server ignores
 * (penalties, {@code user}, ...) are accepted; those whose meaning it cannot honour ({@code tools},
 * {@code logprobs}) are refused.
 */
final class ChatRequestParser {

    private static final Gson GSON = new Gson();
    private static final int MAX_STOP_STRINGS = 4;

    private final String modelId;
    private final GenerationConfig defaults;
    private final PromptStyle promptStyle;

    /**
     * @param modelId     the id {@code /v1/models} lists; requests must name it
     * @param defaults    configuration of what a request leaves out; its method is the one used when a
     *                    request brings a preference but no method
     * @param promptStyle how the preference enters the prompt
     */
    ChatRequestParser(String modelId, GenerationConfig defaults, PromptStyle promptStyle) {
        this.modelId = modelId;
        this.defaults = defaults;
        this.promptStyle = promptStyle;
    }

    ChatRequest parse(String body) {
        JsonObject o = parseObject(body);
        JsonElement model = o.get("model");
        if (model == null || model.isJsonNull()) {
            throw ApiException.invalid("model", "'model' is required (this server serves '" + modelId + "')");
        }
        String name = string(o, "model");
        if (!name.equals(modelId)) {
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "The model '" + name + "' does not exist; this server serves '" + modelId + "'");
        }
        Conversation conversation = messages(o);
        Integer n = integer(o, "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.invalid("n", "'n' must be 1 (one choice per request), got " + n);
        }
        JsonElement tools = o.get("tools");
        if (tools != null && !tools.isJsonNull() && !(tools.isJsonArray() && tools.getAsJsonArray().isEmpty())) {
            throw ApiException.invalid("tools", "tools (function calling) are not supported");
        }
        Boolean logprobs = bool(o, "logprobs");
        if (Boolean.TRUE.equals(logprobs)) {
            throw ApiException.invalid("logprobs", "logprobs are not supported");
        }
        boolean stream = Boolean.TRUE.equals(bool(o, "stream"));
        boolean includeUsage = false;
        JsonObject streamOptions = object(o, "stream_options");
        if (streamOptions != null) {
            includeUsage = Boolean.TRUE.equals(bool(streamOptions, "include_usage", "stream_options.include_usage"));
        }

        String preferenceText = string(o, "preference");
        Preference preference = null;
        if (preferenceText != null) {
            if (preferenceText.isBlank()) {
                throw ApiException.invalid("preference", "'preference' must be a preset name or non-empty text");
            }
            preference = Preference.of(preferenceText.trim());
        }
        String methodName = string(o, "method");
        AlignmentMethod method;
        if (methodName != null) {
            try {
                method = AlignmentMethod.fromName(methodName);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("method", e.getMessage());
            }
        } else {
            method = preference == null ? AlignmentMethod.BASE : defaults.method();
        }
        if (method.needsPreference() && preference == null) {
            throw ApiException.invalid("preference", "method '" + method.id() + "' needs a 'preference' (a preset"
                    + " name such as 'concise', or free text)");
        }

        GenerationConfig.Builder cfg = defaults.toBuilder().method(method);
        Integer maxTokens = integer(o, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) {
            maxTokens = integer(o, "max_tokens", 1, Integer.MAX_VALUE);
        }
        if (maxTokens != null) {
            // capped by the server's limit (amulet serve --max-new-tokens): a request cannot hold a slot longer
            cfg.maxNewTokens(Math.min(maxTokens, defaults.maxNewTokens()));
        }
        cfg.stopStrings(stops(o));
        cfg.decoding(decoding(o));
        JsonObject amulet = object(o, "amulet");
        if (amulet != null) {
            cfg.amulet(amuletParameters(amulet));
        }
        Double ratio = number(o, "ratio");
        if (ratio != null) {
            cfg.rho(ratio);
        }
        GenerationConfig config;
        try {
            config = cfg.build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        }
        AmuletRequest.Builder r = AmuletRequest.builder(conversation).promptStyle(promptStyle).config(config);
        if (preference != null) {
            r.preference(preference);
        }
        return new ChatRequest(r.build(), stream, includeUsage);
    }

    private static JsonObject parseObject(String body) {
        JsonElement e;
        try (JsonReader reader = new JsonReader(new StringReader(body))) {
            e = GSON.getAdapter(JsonElement.class).read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw ApiException.invalid(null, "malformed JSON body: text after the object");
            }
        } catch (IOException | RuntimeException ex) {
            if (ex instanceof ApiException a) {
                throw a;
            }
            throw ApiException.invalid(null, "malformed JSON body: " + ex.getMessage());
        }
        if (e == null || !e.isJsonObject()) {
            throw ApiException.invalid(null, "the body must be a JSON object");
        }
        return e.getAsJsonObject();
    }

    private static Conversation messages(JsonObject o) {
        JsonElement m = o.get("messages");
        if (m == null || !m.isJsonArray() || m.getAsJsonArray().isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array of {role, content}");
        }
        JsonArray array = m.getAsJsonArray();
        StringBuilder system = new StringBuilder();
        List<ChatMessage> turns = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String field = "messages[" + i + "]";
            if (!array.get(i).isJsonObject()) {
                throw ApiException.invalid(field, field + " must be an object with 'role' and 'content'");
            }
            JsonObject msg = array.get(i).getAsJsonObject();
            String role = string(msg, "role", field + ".role");
            if (role == null) {
                throw ApiException.invalid(field + ".role", field + ".role is required");
            }
            String content = content(msg.get("content"), field + ".content");
            switch (role) {
                case "system", "developer" -> {
                    if (!turns.isEmpty()) {
                        throw ApiException.invalid(field + ".role", "system messages must come before the conversation");
                    }
                    if (system.length() > 0) {
                        system.append("\n\n");
                    }
                    system.append(content);
                }
                case "user" -> turns.add(ChatMessage.user(content));
                case "assistant" -> turns.add(ChatMessage.assistant(content));
                default -> throw ApiException.invalid(field + ".role", field + ".role must be system, developer, user"
                        + " or assistant, got '" + role + "'");
            }
        }
        if (turns.isEmpty() || !turns.get(turns.size() - 1).role().equals("user")) {
            throw ApiException.invalid("messages", "the last message must be from the user");
        }
        return Conversation.of(system.length() == 0 ? null : system.toString(), turns);
    }

    /** A string content, or an array of {@code {"type": "text", "text": ...}} parts joined. */
    private static String content(JsonElement c, String field) {
        if (c == null || c.isJsonNull()) {
            return "";
        }
        if (c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
            return c.getAsString();
        }
        if (c.isJsonArray()) {
            StringBuilder sb = new StringBuilder();
            JsonArray parts = c.getAsJsonArray();
            for (int i = 0; i < parts.size(); i++) {
                JsonElement p = parts.get(i);
                if (!p.isJsonObject() || !"text".equals(string(p.getAsJsonObject(), "type", field + "[" + i + "].type"))) {
                    throw ApiException.invalid(field + "[" + i + "]", "only text content parts are supported");
                }
                String text = string(p.getAsJsonObject(), "text", field + "[" + i + "].text");
                sb.append(text == null ? "" : text);
            }
            return sb.toString();
        }
        throw ApiException.invalid(field, field + " must be a string or an array of text parts");
    }

    private List<String> stops(JsonObject o) {
        JsonElement s = o.get("stop");
        if (s == null || s.isJsonNull()) {
            return defaults.stopStrings();
        }
        List<String> out = new ArrayList<>();
        if (s.isJsonPrimitive() && s.getAsJsonPrimitive().isString()) {
            out.add(s.getAsString());
        } else if (s.isJsonArray()) {
            for (JsonElement e : s.getAsJsonArray()) {
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                    throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
                }
                out.add(e.getAsString());
            }
        } else {
            throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
        }
        if (out.size() > MAX_STOP_STRINGS) {
            throw ApiException.invalid("stop", "'stop' holds at most " + MAX_STOP_STRINGS + " strings, got " + out.size());
        }
        for (String stop : out) {
            if (stop.isEmpty()) {
                throw ApiException.invalid("stop", "stop strings must be non-empty");
            }
        }
        return out;
    }

    /** {@code temperature} 0 is greedy (as in OpenAI's API); a positive one samples. */
    private DecodingConfig decoding(JsonObject o) {
        DecodingConfig.Builder d = defaults.decoding().toBuilder();
        Double temperature = number(o, "temperature");
        if (temperature != null) {
            if (temperature < 0 || temperature > 2) {
                throw ApiException.invalid("temperature", "'temperature' must be in [0, 2], got " + temperature);
            }
            if (temperature == 0) {
                d.doSample(false);
            } else {
                d.doSample(true).temperature(temperature);
            }
        }
        Double topP = number(o, "top_p");
        if (topP != null) {
            if (!(topP > 0 && topP <= 1)) {
                throw ApiException.invalid("top_p", "'top_p' must be in (0, 1], got " + topP);
            }
            d.topP(topP);
        }
        Integer topK = integer(o, "top_k", 0, Integer.MAX_VALUE);
        if (topK != null) {
            d.topK(topK);
        }
        JsonElement seed = o.get("seed");
        if (seed != null && !seed.isJsonNull()) {
            d.seed(longValue(seed, "seed"));
        }
        return d.build();
    }

    private static AmuletParameters amuletParameters(JsonObject a) {
        AmuletParameters.Builder b = AmuletParameters.PAPER_DEFAULTS.toBuilder();
        for (String key : a.keySet()) {
            String field = "amulet." + key;
            switch (key) {
                case "iterations" -> b.iterations(integer(a, key, field, 1, 10_000));
                case "eta" -> b.eta(number(a, key, field));
                case "alpha" -> b.alpha(number(a, key, field));
                case "lambda" -> b.lambda(number(a, key, field));
                default -> throw ApiException.invalid(field, "unknown Amulet parameter '" + key
                        + "'; valid: iterations, eta, alpha, lambda");
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("amulet", e.getMessage());
        }
    }

    private static String string(JsonObject o, String key) {
        return string(o, key, key);
    }

    private static String string(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw ApiException.invalid(field, "'" + field + "' must be a string");
        }
        return e.getAsString();
    }

    private static Boolean bool(JsonObject o, String key) {
        return bool(o, key, key);
    }

    private static Boolean bool(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw ApiException.invalid(field, "'" + field + "' must be true or false");
        }
        return e.getAsBoolean();
    }

    private static JsonObject object(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonObject()) {
            throw ApiException.invalid(key, "'" + key + "' must be an object");
        }
        return e.getAsJsonObject();
    }

    private static Double number(JsonObject o, String key) {
        return number(o, key, key);
    }

    private static Double number(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw ApiException.invalid(field, "'" + field + "' must be a number");
        }
        double v = e.getAsDouble();
        if (!Double.isFinite(v)) {
            throw ApiException.invalid(field, "'" + field + "' must be finite");
        }
        return v;
    }

    private static Integer integer(JsonObject o, String key, int min, int max) {
        return integer(o, key, key, min, max);
    }

    private static Integer integer(JsonObject o, String key, String field, int min, int max) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        long v = longValue(e, field);
        if (v < min || v > max) {
            throw ApiException.invalid(field, "'" + field + "' must be an integer in [" + min + ", " + max + "], got " + v);
        }
        return (int) v;
    }

    private static long longValue(JsonElement e, String field) {
        if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw ApiException.invalid(field, "'" + field + "' must be an integer");
        }
        try {
            BigDecimal d = e.getAsBigDecimal();
            return d.longValueExact();
        } catch (ArithmeticException | NumberFormatException ex) {
            throw ApiException.invalid(field, "'" + field + "' must be an integer, got " + e.getAsString()
                    .toLowerCase(Locale.ROOT));
        }
    }
}
