package io.github.amulet4j.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.github.amulet4j.generate.FinishReason;
import io.github.amulet4j.generate.GenerationResult;

/**
 * OpenAI's response shapes for one completion: {@code chat.completion}, the {@code chat.completion.chunk}s
 * of a stream, and {@code usage}. {@code prompt_tokens} counts every prompt stream the method ran (both
 * the base and the preference prompt for {@code amulet} and {@code la}); {@code prompt_tokens_details.cached_tokens}
 * the part of them restored from the model's prompt cache (OpenAI's field for prompt caching).
 */
final class CompletionJson {

    private final String id;
    private final long created;
    private final String model;

    /**
     * @param id      the completion id ({@code chatcmpl-...}), the same in every chunk
     * @param created seconds since the epoch
     * @param model   the served model id
     */
    CompletionJson(String id, long created, String model) {
        this.id = id;
        this.created = created;
        this.model = model;
    }

    /** OpenAI's finish reason: {@code stop} for an end-of-sequence token or stop string, else {@code length}. */
    static String finishReason(FinishReason reason) {
        return switch (reason) {
            case EOS, STOP_STRING -> "stop";
            case MAX_NEW_TOKENS, MAX_POSITIONS -> "length";
        };
    }

    static JsonObject usage(GenerationResult r) {
        int prompt = r.basePromptTokens() + r.preferencePromptTokens();
        JsonObject u = new JsonObject();
        u.addProperty("prompt_tokens", prompt);
        u.addProperty("completion_tokens", r.generatedTokens());
        u.addProperty("total_tokens", prompt + r.generatedTokens());
        JsonObject details = new JsonObject();
        details.addProperty("cached_tokens", r.stats().promptTokensReused());
        u.add("prompt_tokens_details", details);
        return u;
    }

    /** The whole answer ({@code "object": "chat.completion"}). */
    JsonObject completion(GenerationResult r) {
        JsonObject message = new JsonObject();
        message.addProperty("role", "assistant");
        message.addProperty("content", r.text());
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("message", message);
        choice.add("logprobs", JsonNull.INSTANCE);
        choice.addProperty("finish_reason", finishReason(r.finishReason()));
        JsonObject o = head("chat.completion");
        JsonArray choices = new JsonArray();
        choices.add(choice);
        o.add("choices", choices);
        o.add("usage", usage(r));
        return o;
    }

    /** The first chunk: the role, empty content. */
    JsonObject roleChunk(boolean withUsageField) {
        JsonObject delta = new JsonObject();
        delta.addProperty("role", "assistant");
        delta.addProperty("content", "");
        return chunk(delta, null, withUsageField);
    }

    /** A chunk with new text. */
    JsonObject contentChunk(String text, boolean withUsageField) {
        JsonObject delta = new JsonObject();
        delta.addProperty("content", text);
        return chunk(delta, null, withUsageField);
    }

    /** The chunk with the finish reason and an empty delta. */
    JsonObject finishChunk(FinishReason reason, boolean withUsageField) {
        return chunk(new JsonObject(), finishReason(reason), withUsageField);
    }

    /** The last chunk of {@code stream_options.include_usage}: no choices, the usage. */
    JsonObject usageChunk(GenerationResult r) {
        JsonObject o = head("chat.completion.chunk");
        o.add("choices", new JsonArray());
        o.add("usage", usage(r));
        return o;
    }

    private JsonObject chunk(JsonObject delta, String finishReason, boolean withUsageField) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("delta", delta);
        choice.add("logprobs", JsonNull.INSTANCE);
        choice.addProperty("finish_reason", finishReason);
        JsonObject o = head("chat.completion.chunk");
        JsonArray choices = new JsonArray();
        choices.add(choice);
        o.add("choices", choices);
        if (withUsageField) {
            o.add("usage", JsonNull.INSTANCE);
        }
        return o;
    }

    private JsonObject head(String object) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", object);
        o.addProperty("created", created);
        o.addProperty("model", model);
        o.add("system_fingerprint", JsonNull.INSTANCE);
        return o;
    }
}
