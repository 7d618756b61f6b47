package io.github.amulet4j.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server against hostile and unlucky clients, over real sockets on loopback: connections that never finish
 * their headers, a streaming client that stops reading, a non-streaming client that leaves, a rebound
 * {@code Host}, {@code max_tokens} over the server's limit, a failure's detail. Every server here has a read
 * timeout of {@value #READ_TIMEOUT} s (the JDK reads it once per JVM: this class runs in a JVM of its own).
 */
class ServerHardeningTest {

    static final int READ_TIMEOUT = 2;

    @TempDir
    static Path dir;

    static AmuletModel endless;

    @BeforeAll
    static void load() throws IOException {
        endless = ServerLoadAndFaultsTest.endlessModel(dir.resolve("endless"), 4096);
    }

    @AfterAll
    static void close() {
        if (endless != null) {
            endless.close();
        }
    }

    static ServerOptions.Builder options() {
        return ServerOptions.builder(AmuletServerTest.MODEL_ID).port(0).readTimeoutSeconds(READ_TIMEOUT)
                .defaults(GenerationConfig.builder().maxNewTokens(100_000).build());
    }

    static String rawRequest(AmuletServer server, String request) throws IOException {
        try (Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void connectionsThatNeverFinishTheirHeadersAreClosedWithinTheReadTimeoutWhileOthersAreAnswered()
            throws Exception {
        int slow = 200;
        int normal = 20;
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.builder().maxBatchStreams(8).maxQueue(32).build());
             AmuletServer server = AmuletServer.start(batcher, options().build())) {
            List<Socket> sockets = new ArrayList<>();
            long opened = System.nanoTime();
            try {
                for (int i = 0; i < slow; i++) {
                    Socket s = new Socket(server.address().getAddress(), server.address().getPort());
                    s.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    sockets.add(s);
                }
                TestClient client = new TestClient(server.uri(), null);
                ExecutorService pool = Executors.newFixedThreadPool(normal);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < normal; i++) {
                    String body = ServerLoadAndFaultsTest.plainBody("Question " + i + "?", 4, i % 2 == 0);
                    answers.add(pool.submit(() -> client.post(body)));
                }
                // every slow connection is closed by the server (EOF or reset) within the timeout and a tick
                long deadline = opened + TimeUnit.SECONDS.toNanos(READ_TIMEOUT + 6); // the JDK checks once a second; a shared CPU
                long latest = 0;
                for (Socket s : sockets) {
                    int left = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                    s.setSoTimeout(left);
                    try {
                        InputStream in = s.getInputStream();
                        while (in.read() >= 0) {
                            // a 408 or nothing: the server closes the connection
                        }
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError("a connection that never finished its headers is still open "
                                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened) + " ms after it opened");
                    } catch (IOException reset) {
                        // closed
                    }
                    latest = Math.max(latest, System.nanoTime() - opened);
                }
                try {
                    for (Future<HttpResponse<String>> a : answers) {
                        HttpResponse<String> r = a.get(60, TimeUnit.SECONDS);
                        assertEquals(200, r.statusCode(), r.body());
                    }
                } finally {
                    pool.shutdownNow();
                }
                System.out.printf("%d slow connections closed %d ms after the first opened (read timeout %d s); "
                        + "%d normal requests answered%n", slow, latest / 1_000_000, READ_TIMEOUT, normal);
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aStreamingReaderThatStopsFreesItsSlotForTheNextQueuedRequest() throws Exception {
        // a long model id makes every event about 8 KiB: the socket buffers (loopback grows them to MiBs) fill
        // within a few hundred tokens
        String longId = "m".repeat(8192);
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.builder().maxBatchStreams(1).maxQueue(1).build());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder(longId).port(0)
                     .readTimeoutSeconds(READ_TIMEOUT).defaults(GenerationConfig.builder().maxNewTokens(100_000).build())
                     .writeTimeoutMillis(500).keepAliveMillis(100).build())) {
            // a small receive window, and a client that reads a few events and then nothing
            Socket stalled = new Socket();
            stalled.setReceiveBufferSize(1024);
            stalled.connect(new InetSocketAddress(server.address().getAddress(), server.address().getPort()));
            try {
                byte[] body = ServerLoadAndFaultsTest.plainBody("Tell me a long story.", 4000, true)
                        .replace("\"" + AmuletServerTest.MODEL_ID + "\"", "\"" + longId + "\"")
                        .getBytes(StandardCharsets.UTF_8);
                OutputStream out = stalled.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                stalled.getInputStream().read(new byte[256]); // it started
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (batcher.runningRequests() < 1 && System.nanoTime() < until) {
                    Thread.sleep(5);
                }
                TestClient client = new TestClient(server.uri(), null);
                long t0 = System.nanoTime();
                HttpResponse<String> next = client.post(ServerLoadAndFaultsTest.plainBody("Hi?", 4, false)
                        .replace("\"" + AmuletServerTest.MODEL_ID + "\"", "\"" + longId + "\""));
                long waited = System.nanoTime() - t0;
                assertEquals(200, next.statusCode(), next.body());
                // without the cancellation the queued request would only start after the stalled one's 100,000
                // tokens; how many steps run before the socket buffers fill depends on the machine's speed
                assertTrue(batcher.steps() < 50_000, "the stalled request was cancelled: " + batcher.steps() + " steps");
                System.out.printf("the queued request was answered %d ms after a reader stalled (stall timeout 500 ms)%n",
                        waited / 1_000_000);
            } finally {
                stalled.close();
            }
        }
    }

    @Test
    void aNonStreamingClientThatLeavesHasItsRequestCancelled() throws Exception {
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.builder().maxBatchStreams(1).maxQueue(1).build());
             AmuletServer server = AmuletServer.start(batcher, options().keepAliveMillis(100).build())) {
            Socket leaving = new Socket(server.address().getAddress(), server.address().getPort());
            byte[] body = ServerLoadAndFaultsTest.plainBody("Tell me a long story.", 4000, false)
                    .getBytes(StandardCharsets.UTF_8);
            leaving.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            leaving.getOutputStream().write(body);
            leaving.getOutputStream().flush();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.runningRequests() < 1 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            leaving.close();
            long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.runningRequests() > 0 && System.nanoTime() < gone) {
                Thread.sleep(5);
            }
            long steps = batcher.steps();
            assertEquals(0, batcher.runningRequests(), "the request of a client that left was cancelled");
            assertTrue(steps < 3000, "cancelled early: " + steps + " steps of 4000");
            // and a request that waits past the keep-alive interval still gets its answer, as JSON
            HttpResponse<String> r = new TestClient(server.uri(), null)
                    .post(ServerLoadAndFaultsTest.plainBody("Hi?", 400, false));
            assertEquals(200, r.statusCode());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            assertEquals(400, o.getAsJsonObject("usage").get("completion_tokens").getAsInt());
        }
    }

    @Test
    void withoutAKeyAForeignHostIsRefused() throws Exception {
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, options().build())) {
            String rebound = rawRequest(server, "GET /health HTTP/1.1\r\nHost: rebind.example:8080\r\nConnection: close\r\n\r\n");
            assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
            assertTrue(rebound.contains("host_not_allowed"), rebound);
            String page = rawRequest(server, "GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n");
            assertTrue(page.startsWith("HTTP/1.1 403"), page);
            for (String host : List.of("localhost:" + server.address().getPort(), "127.0.0.1", "[::1]:80", "app.localhost")) {
                String ok = rawRequest(server, "GET /health HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
                assertTrue(ok.startsWith("HTTP/1.1 200"), host + ": " + ok);
            }
        }
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, options().apiKey("k").build())) {
            String keyed = rawRequest(server, "GET /v1/models HTTP/1.1\r\nHost: models.example\r\n"
                    + "Authorization: Bearer k\r\nConnection: close\r\n\r\n");
            assertTrue(keyed.startsWith("HTTP/1.1 200"), "with a key any name is served: " + keyed);
        }
        assertTrue(AmuletServer.hostAllowed("myhost:8080", "myhost"));
        assertFalse(AmuletServer.hostAllowed("127.0.0.1.evil.example", "127.0.0.1"));
        assertFalse(AmuletServer.hostAllowed("localhost.evil.example", "127.0.0.1"));
    }

    @Test
    void maxTokensIsCappedByTheServersLimit() throws Exception {
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, options()
                     .defaults(GenerationConfig.builder().maxNewTokens(5).build()).build())) {
            HttpResponse<String> r = new TestClient(server.uri(), null)
                    .post(ServerLoadAndFaultsTest.plainBody("Hi?", 1000, false));
            assertEquals(200, r.statusCode(), r.body());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            assertEquals(5, o.getAsJsonObject("usage").get("completion_tokens").getAsInt());
        }
    }

    @Test
    void aFailureIsA500ThatKeepsItsDetailInTheLog() throws Exception {
        Path broken = dir.resolve("broken-template");
        RandomModelFolder.write(broken, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        JsonObject t = JsonParser.parseString(Files.readString(broken.resolve("tokenizer_config.json"))).getAsJsonObject();
        t.addProperty("chat_template", "{{ raise_exception('secret detail 42 at /home/someone') }}");
        Files.writeString(broken.resolve("tokenizer_config.json"), t.toString());
        try (AmuletModel m = AmuletModel.load(ModelOptions.of(broken));
             AmuletBatcher batcher = m.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, options().build())) {
            HttpResponse<String> r = new TestClient(server.uri(), null)
                    .post(ServerLoadAndFaultsTest.plainBody("Hi?", 4, false));
            assertEquals(500, r.statusCode(), r.body());
            assertFalse(r.body().contains("secret detail"), r.body());
            assertFalse(r.body().contains("Exception"), r.body());
            assertTrue(r.body().contains("error id"), r.body());
        }
    }

    @Test
    void maxConnectionsBoundsTheOpenConnections() throws Exception {
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, options().build())) {
            assertEquals(Integer.toString(256), System.getProperty("jdk.httpserver.maxConnections"));
            assertEquals(Integer.toString(READ_TIMEOUT), System.getProperty("sun.net.httpserver.maxReqTime"));
        }
    }

    @Test
    void shutdownRefusesNewRequestsAndCancelsWhatStillRunsAtItsTimeout() throws Exception {
        try (AmuletBatcher batcher = endless.batcher(BatchingOptions.builder().maxBatchStreams(1).maxQueue(1).build())) {
            AmuletServer server = AmuletServer.start(batcher, options().keepAliveMillis(100).build());
            Socket running = ServerLoadAndFaultsTest.startStream(server,
                    ServerLoadAndFaultsTest.plainBody("Tell me a long story.", 4000, true), 2);
            try {
                CompletableFuture<Long> stopped = CompletableFuture.supplyAsync(() -> {
                    long t0 = System.nanoTime();
                    // a short timeout: the running request must still be running when it ends, on a fast machine too
                    server.shutdown(java.time.Duration.ofMillis(500));
                    return System.nanoTime() - t0;
                });
                Thread.sleep(100);
                String refused = rawRequest(server, "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(refused.startsWith("HTTP/1.1 503"), "a new request while stopping: " + refused);
                long took = stopped.get(30, TimeUnit.SECONDS);
                assertTrue(took < TimeUnit.SECONDS.toNanos(3), "stopped " + took / 1_000_000 + " ms after shutdown(0.5 s)");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (batcher.runningRequests() > 0 && System.nanoTime() < until) {
                    Thread.sleep(5);
                }
                assertEquals(0, batcher.runningRequests(), "the request still running at the timeout was cancelled");
                assertTrue(batcher.steps() < 3000, "cancelled early: " + batcher.steps() + " steps");
            } finally {
                running.close();
                server.close();
            }
        }
    }

    @Test
    void aFullQueueRefusesBeforeThePromptIsRendered() throws Exception {
        // a template that fails for one message: were it rendered, the answer would be a 500, not a 429
        Path folder = dir.resolve("endless-boom");
        ServerLoadAndFaultsTest.endlessModel(folder, 4096).close();
        JsonObject t = JsonParser.parseString(Files.readString(folder.resolve("tokenizer_config.json"))).getAsJsonObject();
        t.addProperty("chat_template", "{% for m in messages %}{% if m['content'] == 'boom' %}"
                + "{{ raise_exception('rendered') }}{% endif %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:");
        Files.writeString(folder.resolve("tokenizer_config.json"), t.toString());
        try (AmuletModel m = AmuletModel.load(ModelOptions.of(folder));
             AmuletBatcher batcher = m.batcher(BatchingOptions.builder().maxBatchStreams(1).maxQueue(0).build());
             AmuletServer server = AmuletServer.start(batcher, options().keepAliveMillis(100).build())) {
            TestClient client = new TestClient(server.uri(), null);
            HttpResponse<String> rendered = client.post(ServerLoadAndFaultsTest.plainBody("boom", 4, false));
            assertEquals(500, rendered.statusCode(), "with room, the prompt is rendered (and fails): " + rendered.body());
            try (Socket running = ServerLoadAndFaultsTest.startStream(server,
                    ServerLoadAndFaultsTest.plainBody("Tell me a long story.", 4000, true), 2)) {
                HttpResponse<String> refused = client.post(ServerLoadAndFaultsTest.plainBody("boom", 4, false));
                AmuletServerTest.assertError(refused, 429, null, "rate_limit_exceeded");
            }
        }
    }

    @SuppressWarnings("unused")
    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toString(StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unused")
    private static CompletableFuture<Void> none() {
        return CompletableFuture.completedFuture(null);
    }
}
