package io.github.amulet4j.server;


import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible server on a random tiny Qwen2 over loopback: greedy answers of concurrent requests
 * equal the library's one by one, OpenAI's shapes, the error statuses.
 */
class AmuletServerTest {

    static final String KEY = "test-key";
    static final String MODEL_ID = "tiny";
    static final int KINDS = 16;
    /** The server's defaults: the paper's, with 2 beams so a beam request fits the batch with others. */
    static final GenerationConfig DEFAULTS = GenerationConfig.builder().numBeams(2).build();

    @TempDir
    static Path dir;

    static AmuletModel model;
    static AmuletBatcher batcher;
    static AmuletServer server;
    static TestClient client;
    /** The library's answer to request kind {@code i}, run alone before the server started. */
    static final List<GenerationResult> expected = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        model = AmuletModel.load(ModelOptions.of(folder));
        for (int i = 0; i < KINDS; i++) {
            expected.add(model.generate(libraryRequest(i), TokenListener.NONE));
        }
        batcher = model.batcher(BatchingOptions.builder().maxBatchStreams(16).maxQueue(40).build());
        server = AmuletServer.start(batcher, ServerOptions.builder(MODEL_ID).port(0).apiKey(KEY).defaults(DEFAULTS)
                .maxBodyBytes(64 * 1024).build());
        client = new TestClient(server.uri(), KEY);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (batcher != null) {
            batcher.close();
        }
        if (model != null) {
            model.close();
        }
    }

    static AlignmentMethod method(int i) {
        AlignmentMethod[] methods = {AlignmentMethod.AMULET, AlignmentMethod.BASE, AlignmentMethod.LA, AlignmentMethod.PREF, AlignmentMethod.AMULET, AlignmentMethod.BEAM, AlignmentMethod.BASE};
        return methods[i % methods.length];
    }

    static String preference(int i) {
        String[] preferences = {"concise", "Answer like a pirate.", "formal", "creative", "uplifting"};
        return method(i) == AlignmentMethod.BASE && i % 2 == 1 ? null : preferences[i % preferences.length];
    }

    static String question(int i) {
        return "Question " + i + ": what is " + "the ozone layer ".repeat(1 + i % 3) + "?";
    }

    static int maxTokens(int i) {
        return 3 + i % 6;
    }

    static AmuletRequest libraryRequest(int i) {
        GenerationConfig cfg = DEFAULTS.toBuilder().method(method(i)).maxNewTokens(maxTokens(i))
                .decoding(DecodingConfig.greedy()).build();
        AmuletRequest.Builder b = AmuletRequest.builder(Conversation.of(question(i))).config(cfg);
        if (preference(i) != null) {
            b.preference(preference(i));
        }
        return b.build();
    }

    static JsonObject body(int i, boolean stream) {
        JsonObject o = new JsonObject();
        o.addProperty("model", MODEL_ID);
        JsonArray messages = new JsonArray();
        JsonObject user = new JsonObject();
        user.addProperty("role", "user");
        user.addProperty("content", question(i));
        messages.add(user);
        o.add("messages", messages);
        o.addProperty("max_tokens", maxTokens(i));
        o.addProperty("temperature", 0);
        o.addProperty("method", method(i).id());
        if (preference(i) != null) {
            o.addProperty("preference", preference(i));
        }
        if (stream) {
            o.addProperty("stream", true);
            JsonObject so = new JsonObject();
            so.addProperty("include_usage", true);
            o.add("stream_options", so);
        }
        return o;
    }

    static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    @Test
    void sixteenConcurrentRequestsEqualTheLibraryOneByOne() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(KINDS);
        try {
            List<Future<String>> answers = new ArrayList<>();
            List<Future<Integer>> tokens = new ArrayList<>();
            for (int i = 0; i < KINDS; i++) {
                int k = i;
                if (k % 2 == 0) {
                    Future<TestClient.Streamed> f = pool.submit(() -> client.stream(body(k, true).toString()));
                    answers.add(pool.submit(() -> f.get().content()));
                    tokens.add(pool.submit(() -> usage(lastChunk(f.get())).get("completion_tokens").getAsInt()));
                } else {
                    Future<HttpResponse<String>> f = pool.submit(() -> client.post(body(k, false).toString()));
                    answers.add(pool.submit(() -> message(json(f.get()))));
                    tokens.add(pool.submit(() -> json(f.get()).getAsJsonObject("usage").get("completion_tokens").getAsInt()));
                }
            }
            for (int i = 0; i < KINDS; i++) {
                assertEquals(expected.get(i).text(), answers.get(i).get(60, TimeUnit.SECONDS), "request " + i);
                assertEquals(expected.get(i).generatedTokens(), tokens.get(i).get(60, TimeUnit.SECONDS), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static String message(JsonObject completion) {
        return completion.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message")
                .get("content").getAsString();
    }

    static JsonObject lastChunk(TestClient.Streamed s) {
        List<JsonObject> chunks = s.chunks();
        return chunks.get(chunks.size() - 1);
    }

    static JsonObject usage(JsonObject o) {
        return o.getAsJsonObject("usage");
    }

    @Test
    void completionAndStreamInOpenAisShapes() throws Exception {
        HttpResponse<String> whole = client.post(body(0, false).toString());
        assertEquals(200, whole.statusCode(), whole.body());
        assertTrue(whole.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonObject c = json(whole);
        assertEquals("chat.completion", c.get("object").getAsString());
        assertTrue(c.get("id").getAsString().startsWith("chatcmpl-"));
        assertEquals(MODEL_ID, c.get("model").getAsString());
        JsonObject choice = c.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(0, choice.get("index").getAsInt());
        assertEquals("assistant", choice.getAsJsonObject("message").get("role").getAsString());
        String finish = expected.get(0).finishReason().name().equals("EOS") ? "stop" : "length";
        assertEquals(finish, choice.get("finish_reason").getAsString());
        JsonObject u = c.getAsJsonObject("usage");
        GenerationResult want = expected.get(0);
        assertEquals(want.basePromptTokens() + want.preferencePromptTokens(), u.get("prompt_tokens").getAsInt());
        assertEquals(u.get("prompt_tokens").getAsInt() + u.get("completion_tokens").getAsInt(),
                u.get("total_tokens").getAsInt());

        TestClient.Streamed s = client.stream(body(0, true).toString());
        assertEquals(200, s.status());
        assertEquals("[DONE]", s.events().get(s.events().size() - 1));
        List<JsonObject> chunks = s.chunks();
        String id = chunks.get(0).get("id").getAsString();
        JsonObject first = chunks.get(0).getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals("assistant", first.getAsJsonObject("delta").get("role").getAsString());
        for (int k = 0; k < chunks.size(); k++) {
            JsonObject ch = chunks.get(k);
            assertEquals("chat.completion.chunk", ch.get("object").getAsString());
            assertEquals(id, ch.get("id").getAsString(), "one id for the whole stream");
            assertTrue(ch.has("usage"), "include_usage: every chunk has a usage field");
            if (k < chunks.size() - 1) {
                assertTrue(ch.get("usage").isJsonNull());
            }
        }
        JsonObject finishChunk = chunks.get(chunks.size() - 2).getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(finish, finishChunk.get("finish_reason").getAsString());
        assertEquals(0, finishChunk.getAsJsonObject("delta").size());
        JsonObject last = chunks.get(chunks.size() - 1);
        assertEquals(0, last.getAsJsonArray("choices").size());
        assertEquals(u, last.getAsJsonObject("usage"));
        assertEquals(message(c), s.content());

        // without include_usage: no usage anywhere
        JsonObject plain = body(0, true);
        plain.remove("stream_options");
        TestClient.Streamed s2 = client.stream(plain.toString());
        for (JsonObject ch : s2.chunks()) {
            assertFalse(ch.has("usage"));
        }
        assertEquals(message(c), s2.content());
    }

    @Test
    void modelsAndHealth() throws Exception {
        HttpResponse<String> models = client.get("/v1/models");
        assertEquals(200, models.statusCode());
        JsonObject m = json(models);
        assertEquals("list", m.get("object").getAsString());
        assertEquals(MODEL_ID, m.getAsJsonArray("data").get(0).getAsJsonObject().get("id").getAsString());
        assertEquals("model", m.getAsJsonArray("data").get(0).getAsJsonObject().get("object").getAsString());
        HttpResponse<String> health = new TestClient(server.uri(), null).get("/health");
        assertEquals(200, health.statusCode(), "health needs no key");
        assertEquals("ok", json(health).get("status").getAsString());
        // the library's requests before the server started went through the prompt cache (on by default)
        JsonObject cache = json(health).getAsJsonObject("prompt_cache");
        assertTrue(cache.get("enabled").getAsBoolean(), health.body());
        assertTrue(cache.get("lookups").getAsLong() >= KINDS, health.body());
        assertTrue(cache.get("bytes_held").getAsLong() > 0, health.body());
        assertTrue(cache.get("bytes_held").getAsLong() <= cache.get("budget_bytes").getAsLong(), health.body());
        assertTrue(cache.has("hits") && cache.has("tokens_reused"), health.body());
        HttpResponse<String> page = new TestClient(server.uri(), null).get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("id=\"preference\"") && page.body().contains("/v1/chat/completions"));
    }

    /** Asserts an OpenAI-shaped error with this status, param and (if not null) code. */
    static JsonObject assertError(HttpResponse<String> r, int status, String param, String code) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonObject e = json(r).getAsJsonObject("error");
        assertTrue(e.has("message") && e.has("type") && e.has("param") && e.has("code"), r.body());
        assertFalse(e.get("message").getAsString().isBlank());
        if (param == null) {
            assertTrue(e.get("param").isJsonNull(), r.body());
        } else {
            assertEquals(param, e.get("param").getAsString(), r.body());
        }
        if (code != null) {
            assertEquals(code, e.get("code").getAsString(), r.body());
        }
        return e;
    }

    @Test
    void badRequestsGetTheirStatusAndAnErrorNamingTheField() throws Exception {
        assertError(client.post("{\"model\": \"tiny\", \"messages\": ["), 400, null, null);
        assertError(client.post("{model: 'tiny'}"), 400, null, null);
        assertError(client.post("[1, 2]"), 400, null, null);
        assertError(client.post("{\"model\": \"tiny\"}"), 400, "messages", null);
        assertError(client.post("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"), 400, "model", null);
        assertError(client.post("{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"),
                404, "model", "model_not_found");
        String[][] fields = {
            {"temperature", "3"}, {"temperature", "\"hot\""}, {"top_p", "0"}, {"n", "2"}, {"max_tokens", "0"},
            {"max_tokens", "1.5"}, {"method", "\"magic\""}, {"stop", "[\"a\", 3]"}, {"stream", "\"yes\""},
            {"top_k", "-1"}, {"seed", "\"x\""}, {"ratio", "\"big\""}, {"preference", "\" \""}};
        for (String[] f : fields) {
            String body = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"preference\": "
                    + "\"concise\", \"" + f[0] + "\": " + f[1] + "}";
            if (f[0].equals("preference")) {
                body = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"preference\": "
                        + f[1] + "}";
            }
            assertError(client.post(body), 400, f[0], null);
        }
        assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"preference\": \"concise\", \"amulet\": {\"iterations\": 0}}"), 400, "amulet.iterations", null);
        assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"preference\": \"concise\", \"amulet\": {\"beta\": 1}}"), 400, "amulet.beta", null);
        assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"tool\", \"content\": \"hi\"}]}"),
                400, "messages[0].role", null);
        assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"method\": \"amulet\"}"), 400, "preference", null);
        // a prompt longer than the context (512 positions): 400 naming both lengths
        String longPrompt = "word ".repeat(2000);
        JsonObject e = assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \""
                + longPrompt + "\"}]}"), 400, "messages", "context_length_exceeded");
        assertTrue(e.get("message").getAsString().contains("512"), e.toString());
        // over the body limit (64 KiB here): 413
        String huge = "x".repeat(100 * 1024);
        assertError(client.post("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"" + huge
                + "\"}]}"), 413, null, "request_too_large");
        // keys
        TestClient wrongKey = new TestClient(server.uri(), "wrong");
        assertError(wrongKey.post(body(1, false).toString()), 401, null, "invalid_api_key");
        assertError(wrongKey.get("/v1/models"), 401, null, "invalid_api_key");
        assertError(new TestClient(server.uri(), null).post(body(1, false).toString()), 401, null, "invalid_api_key");
        // path, method, content type
        assertError(client.get("/v1/nothing"), 404, null, null);
        assertError(client.get("/v1/chat/completions"), 405, null, null);
        HttpResponse<String> form = client.http.send(java.net.http.HttpRequest.newBuilder(
                        server.uri().resolve("/v1/chat/completions")).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body(1, false).toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(form, 400, null, null);
        // the server still answers after all that
        assertEquals(200, client.post(body(1, false).toString()).statusCode());
    }

    /**
     * Clients we did not write: LangChain4j's OpenAI chat models, the preference and method passed as custom
     * parameters (top-level body fields).
     */
    @Test
    void langChain4jOpenAiModelsGetTheLibrarysAnswers() throws Exception {
        int kind = 0; // amulet with the "concise" preset
        assertEquals(AlignmentMethod.AMULET, method(kind));
        GenerationResult want = expected.get(kind);
        Map<String, Object> custom = Map.of("preference", preference(kind), "method", "amulet");
        String base = server.uri() + "/v1";
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey(KEY)
                .modelName(MODEL_ID).temperature(0.0)
                .maxTokens(maxTokens(kind)).customParameters(custom).build();
        ChatResponse r = chat.chat(UserMessage.from(question(kind)));
        assertEquals(want.text(), r.aiMessage().text());
        assertEquals(want.generatedTokens(), r.tokenUsage().outputTokenCount());
        assertEquals(want.basePromptTokens() + want.preferencePromptTokens(), r.tokenUsage().inputTokenCount());
        assertTrue(r.finishReason() != null);

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base)
                .apiKey(KEY).modelName(MODEL_ID).temperature(0.0)
                .maxTokens(maxTokens(kind)).customParameters(custom).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(question(kind), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse s = done.get(60, TimeUnit.SECONDS);
        assertEquals(want.text(), partial.toString());
        assertEquals(want.text(), s.aiMessage().text());
        assertEquals(want.generatedTokens(), s.tokenUsage().outputTokenCount());
        assertEquals(r.finishReason(), s.finishReason());

        // the plain answer differs: the preference really travelled
        OpenAiChatModel plain = OpenAiChatModel.builder().baseUrl(base).apiKey(KEY)
                .modelName(MODEL_ID).temperature(0.0).maxTokens(maxTokens(kind))
                .build();
        String plainText = plain.chat(UserMessage.from(question(kind))).aiMessage().text();
        assertTrue(!plainText.equals(want.text()) || want.text().isEmpty(),
                "base and amulet answers differ on this model: " + plainText);
    }
}
