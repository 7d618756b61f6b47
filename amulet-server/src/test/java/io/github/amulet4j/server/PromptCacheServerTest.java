package io.github.amulet4j.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet serve} with the prompt cache answers conversations exactly as a server without one: clients that
 * resend the whole history every turn (as OpenAI clients do), one after another and many at once, with a budget
 * large enough to keep everything and with one so small that entries are evicted all the time.
 */
class PromptCacheServerTest {

    static final String MODEL_ID = "tiny";
    static final String SYSTEM = "You are a helpful assistant who answers questions about the weather and the sky.";
    static final int ANSWER_TOKENS = 6;

    @TempDir
    static Path dir;

    static Served cached;
    static Served plain;
    static Served tinyBudget;

    /** A model, its batcher and a server over it. */
    record Served(AmuletModel model, AmuletBatcher batcher, AmuletServer server, TestClient client) {

        static Served start(Path folder, int promptCacheMib) throws IOException {
            AmuletModel m = AmuletModel.load(ModelOptions.builder().model(folder)
                    .runtime(r -> r.promptCacheMib(promptCacheMib)).build());
            AmuletBatcher b = m.batcher(BatchingOptions.builder().maxBatchStreams(16).maxQueue(256).build());
            AmuletServer s = AmuletServer.start(b, ServerOptions.builder(MODEL_ID).port(0).build());
            return new Served(m, b, s, new TestClient(s.uri(), null));
        }

        void close() {
            server.close();
            batcher.close();
            model.close();
        }

        JsonObject health() throws Exception {
            HttpResponse<String> r = client.get("/health");
            assertEquals(200, r.statusCode(), r.body());
            return JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("prompt_cache");
        }
    }

    @BeforeAll
    static void start() throws IOException {
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 13, SafetensorsDtype.F32);
        plain = Served.start(folder, 0);
        cached = Served.start(folder, 64);
        tinyBudget = Served.start(folder, 1);
    }

    @AfterAll
    static void stop() {
        for (Served s : new Served[] {cached, plain, tinyBudget}) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** One answer: its text and usage. */
    record Answer(String content, int promptTokens, int cachedTokens, int completionTokens) {
    }

    static Answer ask(Served served, List<String[]> messages, String preference) throws Exception {
        JsonObject o = new JsonObject();
        o.addProperty("model", MODEL_ID);
        JsonArray list = new JsonArray();
        for (String[] m : messages) {
            JsonObject message = new JsonObject();
            message.addProperty("role", m[0]);
            message.addProperty("content", m[1]);
            list.add(message);
        }
        o.add("messages", list);
        o.addProperty("max_tokens", ANSWER_TOKENS);
        o.addProperty("temperature", 0);
        o.addProperty("method", "amulet");
        o.addProperty("preference", preference);
        HttpResponse<String> r = served.client().post(o.toString());
        assertEquals(200, r.statusCode(), r.body());
        JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
        JsonObject usage = body.getAsJsonObject("usage");
        return new Answer(body.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message")
                .get("content").getAsString(), usage.get("prompt_tokens").getAsInt(),
                usage.getAsJsonObject("prompt_tokens_details").get("cached_tokens").getAsInt(),
                usage.get("completion_tokens").getAsInt());
    }

    /** User turn {@code turn} of conversation {@code c}: conversations {@code c} and {@code c + 4} start alike. */
    static String userTurn(int c, int turn) {
        String[] topics = {"rain", "the ozone layer", "clouds", "a rainbow"};
        return turn == 0 ? "Tell me about " + topics[c % 4] + ", please." : "And what about " + topics[(c + turn) % 4]
                + " on day " + (c * 7 + turn) + "?";
    }

    static String preference(int c) {
        return c % 3 == 0 ? "formal" : "concise";
    }

    /** A whole conversation of {@code turns} turns on {@code served}, resending the history every turn. */
    static List<Answer> converse(Served served, int c, int turns) throws Exception {
        List<String[]> messages = new ArrayList<>();
        messages.add(new String[] {"system", SYSTEM});
        List<Answer> answers = new ArrayList<>();
        for (int turn = 0; turn < turns; turn++) {
            messages.add(new String[] {"user", userTurn(c, turn)});
            Answer a = ask(served, messages, preference(c));
            answers.add(a);
            messages.add(new String[] {"assistant", a.content()});
        }
        return answers;
    }

    @Test
    void eightTurnsAnswerAsAFreshServerAndReuseTheHistory() throws Exception {
        List<String[]> messages = new ArrayList<>();
        messages.add(new String[] {"system", SYSTEM});
        int previousPrompt = 0;
        for (int turn = 0; turn < 8; turn++) {
            messages.add(new String[] {"user", userTurn(1, turn)});
            Answer withCache = ask(cached, messages, "concise");
            Answer fresh = ask(plain, messages, "concise");
            assertEquals(fresh.content(), withCache.content(), "turn " + turn);
            assertEquals(fresh.completionTokens(), withCache.completionTokens(), "turn " + turn);
            assertEquals(fresh.promptTokens(), withCache.promptTokens(), "turn " + turn);
            assertEquals(0, fresh.cachedTokens(), "a server without the cache reuses nothing");
            // both streams restore at least the whole previous prompt (the answer too, where it comes back as the
            // same tokens), and prefill at least the last token
            assertTrue(withCache.cachedTokens() >= previousPrompt, "turn " + turn + ": " + withCache);
            assertTrue(withCache.cachedTokens() < withCache.promptTokens(), "turn " + turn + ": " + withCache);
            previousPrompt = withCache.promptTokens();
            messages.add(new String[] {"assistant", fresh.content()});
        }
        JsonObject stats = cached.health();
        assertTrue(stats.get("hits").getAsLong() >= 14, stats.toString());
    }

    @Test
    void concurrentConversationsUnderATinyBudgetAnswerAsWithoutTheCache() throws Exception {
        int conversations = 16;
        int turns = 4;
        List<List<Answer>> expected = new ArrayList<>();
        for (int c = 0; c < conversations; c++) {
            expected.add(converse(plain, c, turns));
        }
        long evictionsBefore = tinyBudget.health().get("evictions").getAsLong();
        for (Served served : new Served[] {tinyBudget, cached}) {
            ExecutorService pool = Executors.newFixedThreadPool(conversations);
            try {
                List<Future<List<Answer>>> runs = new ArrayList<>();
                for (int c = 0; c < conversations; c++) {
                    int conversation = c;
                    runs.add(pool.submit(() -> converse(served, conversation, turns)));
                }
                for (int c = 0; c < conversations; c++) {
                    List<Answer> got = runs.get(c).get();
                    for (int t = 0; t < turns; t++) {
                        assertEquals(expected.get(c).get(t).content(), got.get(t).content(),
                                "conversation " + c + ", turn " + t);
                        assertEquals(expected.get(c).get(t).promptTokens(), got.get(t).promptTokens());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        JsonObject tiny = tinyBudget.health();
        assertTrue(tiny.get("evictions").getAsLong() > evictionsBefore, "the budget must evict: " + tiny);
        assertTrue(tiny.get("bytes_held").getAsLong() <= tiny.get("budget_bytes").getAsLong(), tiny.toString());
        assertEquals(1L << 20, tiny.get("budget_bytes").getAsLong(), tiny.toString());
        assertTrue(tiny.get("tokens_reused").getAsLong() > 0, tiny.toString());
        JsonObject big = cached.health();
        assertTrue(big.get("hits").getAsLong() > conversations, big.toString());
    }
}
