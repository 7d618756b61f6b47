package io.github.amulet4j.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server under load (64 concurrent streaming clients, 3 rounds) and faults (a client killed mid-stream,
 * a full queue), on a random tiny Qwen2 over loopback.
 */
class ServerLoadAndFaultsTest {

    @TempDir
    static Path dir;

    static Path folder;

    @BeforeAll
    static void write() throws IOException {
        folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
    }

    static AmuletModel model;

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static AmuletModel model() throws IOException {
        if (model == null) {
            model = AmuletModel.load(ModelOptions.of(folder));
        }
        return model;
    }

    @Test
    void sixtyFourStreamingClientsThreeRoundsEveryRequestCompletesOrGets429() throws Exception {
        AmuletModel m = model();
        int kinds = AmuletServerTest.KINDS;
        List<GenerationResult> expected = new ArrayList<>();
        for (int i = 0; i < kinds; i++) {
            expected.add(m.generate(AmuletServerTest.libraryRequest(i), TokenListener.NONE));
        }
        int clients = 64;
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger healthFailures = new AtomicInteger();
        AtomicInteger healthChecks = new AtomicInteger();
        AtomicLong slowestHealthNanos = new AtomicLong();
        try (AmuletBatcher batcher = m.batcher(BatchingOptions.builder().maxBatchStreams(16).maxQueue(24).build());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder(AmuletServerTest.MODEL_ID).port(0)
                     .defaults(AmuletServerTest.DEFAULTS).build())) {
            TestClient client = new TestClient(server.uri(), null);
            ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
            try {
                Future<?> health = pool.submit(() -> {
                    while (running.get()) {
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<String> r = client.get("/health");
                            if (r.statusCode() != 200) {
                                healthFailures.incrementAndGet();
                            }
                        } catch (IOException | InterruptedException e) {
                            healthFailures.incrementAndGet();
                        }
                        slowestHealthNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                        healthChecks.incrementAndGet();
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                int completed = 0;
                int refused = 0;
                long[] heapAfter = new long[3];
                for (int round = 0; round < 3; round++) {
                    List<Future<TestClient.Streamed>> answers = new ArrayList<>();
                    for (int c = 0; c < clients; c++) {
                        int kind = c % kinds;
                        answers.add(pool.submit(() -> client.stream(AmuletServerTest.body(kind, true).toString())));
                    }
                    for (int c = 0; c < clients; c++) {
                        TestClient.Streamed s = answers.get(c).get(60, TimeUnit.SECONDS);
                        int kind = c % kinds;
                        if (s.status() == 429) {
                            refused++;
                            assertEquals("1", s.headers().firstValue("Retry-After").orElse(null));
                            JsonObject e = JsonParser.parseString(s.errorBody()).getAsJsonObject().getAsJsonObject("error");
                            assertEquals("rate_limit_exceeded", e.get("code").getAsString());
                            continue;
                        }
                        assertEquals(200, s.status(), "round " + round + " client " + c + ": " + s.errorBody());
                        completed++;
                        assertEquals("[DONE]", s.events().get(s.events().size() - 1));
                        // no token lost or repeated: the text and the count are the library's
                        assertEquals(expected.get(kind).text(), s.content(), "round " + round + " client " + c);
                        JsonObject usage = AmuletServerTest.lastChunk(s).getAsJsonObject("usage");
                        assertEquals(expected.get(kind).generatedTokens(), usage.get("completion_tokens").getAsInt());
                    }
                    System.gc();
                    heapAfter[round] = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
                    // a client has its [DONE] a moment before the loop retires the request: wait for it, bounded
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (batcher.runningRequests() + batcher.queuedRequests() > 0 && System.nanoTime() < until) {
                        Thread.sleep(5);
                    }
                    assertEquals(0, batcher.runningRequests() + batcher.queuedRequests(), "round " + round + " drained");
                }
                running.set(false);
                health.get(30, TimeUnit.SECONDS);
                assertEquals(3 * clients, completed + refused);
                assertTrue(completed >= 3 * 8, "each round at least fills the batch: " + completed);
                assertEquals(0, healthFailures.get(), "health answered throughout");
                assertTrue(healthChecks.get() >= 3, "health polled during the rounds: " + healthChecks.get());
                assertTrue(slowestHealthNanos.get() < TimeUnit.SECONDS.toNanos(5),
                        "slowest health answer " + slowestHealthNanos.get() / 1_000_000 + " ms");
                assertTrue(heapAfter[2] < heapAfter[0] + (64L << 20),
                        "heap flat across rounds: " + heapAfter[0] / 1024 + " KiB then " + heapAfter[2] / 1024 + " KiB");
            } finally {
                running.set(false);
                pool.shutdownNow();
            }
        }
    }

    /**
     * The tiny model with its end-of-sequence ids moved to a padded row, which is never chosen: every answer
     * runs to its token limit, so a long request is long.
     */
    static AmuletModel endlessModel() throws IOException {
        return endlessModel(dir.resolve("endless"));
    }

    static AmuletModel endlessModel(Path endless) throws IOException {
        return endlessModel(endless, 0);
    }

    /**
     * @param positions the context length written into config.json (rotary positions need no weights), 0 to keep the
     *                  tiny shape's 256
     */
    static AmuletModel endlessModel(Path endless, int positions) throws IOException {
        ModelConfig c = RandomModelFolder.write(endless, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        int padded = c.vocabSize() - 1;
        for (String file : List.of("config.json", "generation_config.json")) {
            JsonObject o = JsonParser.parseString(Files.readString(endless.resolve(file))).getAsJsonObject();
            o.addProperty("eos_token_id", padded);
            if (positions > 0 && file.equals("config.json")) {
                o.addProperty("max_position_embeddings", positions);
            }
            Files.writeString(endless.resolve(file), o.toString());
        }
        JsonObject t = JsonParser.parseString(Files.readString(endless.resolve("tokenizer_config.json"))).getAsJsonObject();
        t.add("eos_token", com.google.gson.JsonNull.INSTANCE);
        Files.writeString(endless.resolve("tokenizer_config.json"), t.toString());
        return AmuletModel.load(ModelOptions.of(endless));
    }

    static String plainBody(String question, int maxTokens, boolean stream) {
        JsonObject o = new JsonObject();
        o.addProperty("model", AmuletServerTest.MODEL_ID);
        o.add("messages", JsonParser.parseString("[{\"role\": \"user\", \"content\": "
                + new com.google.gson.JsonPrimitive(question) + "}]"));
        o.addProperty("max_tokens", maxTokens);
        o.addProperty("stream", stream);
        return o.toString();
    }

    /** Opens a streaming request on a raw socket and reads {@code events} SSE events of it. */
    static Socket startStream(AmuletServer server, String body, int events) throws IOException {
        Socket socket = new Socket(server.address().getAddress(), server.address().getPort());
        OutputStream out = socket.getOutputStream();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        int seen = 0;
        String line;
        while (seen < events && (line = in.readLine()) != null) {
            if (line.startsWith("data: ")) {
                seen++;
            }
        }
        assertEquals(events, seen, "the request streams");
        return socket;
    }

    @Test
    void aClientKilledMidStreamFreesItsSlotAndAFullQueueGets429() throws Exception {
        // far longer than the few hundred steps a closed socket may take to notice: the request would run for
        // longRun steps, and its slot is only freed early if the server sees the client gone
        int longRun = 3000;
        String question = "Tell me a long story.";
        // one stream in the batch, one request waiting
        try (AmuletModel m = endlessModel(dir.resolve("endless-long"), 4096);
             AmuletBatcher batcher = m.batcher(BatchingOptions.builder().maxBatchStreams(1).maxQueue(1).build());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder(AmuletServerTest.MODEL_ID).port(0)
                     .keepAliveMillis(100).build())) {
            TestClient client = new TestClient(server.uri(), null);
            String longBody = plainBody(question, longRun, true);
            // killed after a few tokens: its streams leave, the next request is admitted long before the
            // killed one would have finished (it alone would need longRun steps)
            Socket killed = startStream(server, longBody, 3);
            killed.close();
            HttpResponse<String> next = client.post(plainBody("Hi?", 4, false));
            assertEquals(200, next.statusCode(), next.body());
            long steps = batcher.steps();
            assertTrue(steps < longRun / 2, "the killed request stopped early: " + steps + " steps of " + longRun);
            // the client has its response a moment before the loop retires the request: wait for it, bounded
            long retired = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.runningRequests() > 0 && System.nanoTime() < retired) {
                Thread.sleep(5);
            }
            assertEquals(0, batcher.runningRequests());

            // a full batch and a full queue: the next one gets 429 with Retry-After
            Socket running = startStream(server, longBody, 2);
            CompletableFuture<HttpResponse<String>> waiting = client.http.sendAsync(
                    client.request(plainBody("Hi?", 4, false)), HttpResponse.BodyHandlers.ofString());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.queuedRequests() < 1 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            HttpResponse<String> refused = client.post(plainBody("Hi?", 4, false));
            running.close();
            AmuletServerTest.assertError(refused, 429, null, "rate_limit_exceeded");
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            assertEquals(200, waiting.get(30, TimeUnit.SECONDS).statusCode());
        }
    }
}
