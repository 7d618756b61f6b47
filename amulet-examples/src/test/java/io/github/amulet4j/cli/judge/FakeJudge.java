package io.github.amulet4j.cli.judge;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback OpenAI chat-completions server (127.0.0.1, a free port) whose replies a test scripts: a verdict, garbage,
 * a status with headers, a delay. Records every request (messages, Authorization header, arrival time).
 */
final class FakeJudge implements AutoCloseable {

    /** One request as received. */
    record Request(int number, List<String> roles, List<String> contents, String authorization, JsonObject body,
                   long arrivedNanos) {

        /** The first user message: the judge prompt. */
        String prompt() {
            return contents.get(0);
        }

        /** Whether this is the retry after a reply without a verdict. */
        boolean isRetry() {
            return contents.size() > 1;
        }

        /** The answer shown as A (between the default template's markers). */
        String answerA() {
            return between(prompt(), "[The start of Assistant A's answer]\n", "\n[The end of Assistant A's answer]");
        }

        /** The answer shown as B. */
        String answerB() {
            return between(prompt(), "[The start of Assistant B's answer]\n", "\n[The end of Assistant B's answer]");
        }

        private static String between(String s, String from, String to) {
            int i = s.indexOf(from);
            int j = s.indexOf(to, i + from.length());
            if (i < 0 || j < 0) {
                throw new IllegalStateException("not the default template: " + s);
            }
            return s.substring(i + from.length(), j);
        }
    }

    /** What the server answers. */
    record Response(int status, Map<String, String> headers, String body, long delayMillis) {

        /** A chat completion whose content is {@code text}. */
        static Response reply(String text) {
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            message.addProperty("content", text);
            JsonObject choice = new JsonObject();
            choice.addProperty("index", 0);
            choice.add("message", message);
            choice.addProperty("finish_reason", "stop");
            JsonArray choices = new JsonArray();
            choices.add(choice);
            JsonObject body = new JsonObject();
            body.addProperty("id", "chatcmpl-test");
            body.addProperty("object", "chat.completion");
            body.add("choices", choices);
            return new Response(200, Map.of(), body.toString(), 0);
        }

        /** The verdict {@code [[X]]} after a short explanation. */
        static Response verdict(String letter) {
            return reply("Both answers address the question. Final verdict:\n[[" + letter + "]]");
        }

        static Response status(int status, Map<String, String> headers, String body) {
            return new Response(status, headers, body, 0);
        }

        Response delayed(long millis) {
            return new Response(status, headers, body, millis);
        }
    }

    /** Decides the response to a request. */
    @FunctionalInterface
    interface Script {
        Response respond(Request r);
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger counter = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private volatile Script script;

    FakeJudge(Script script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** The base URL, ending in /v1. */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    void script(Script s) {
        this.script = s;
    }

    List<Request> requests() {
        return new ArrayList<>(requests);
    }

    int maxInFlight() {
        return maxInFlight.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        boolean counted = true;
        try (ex) {
            JsonObject body = JsonParser.parseString(new String(ex.getRequestBody().readAllBytes(),
                    StandardCharsets.UTF_8)).getAsJsonObject();
            List<String> roles = new ArrayList<>();
            List<String> contents = new ArrayList<>();
            body.getAsJsonArray("messages").forEach(m -> {
                roles.add(m.getAsJsonObject().get("role").getAsString());
                contents.add(m.getAsJsonObject().get("content").getAsString());
            });
            Request r = new Request(counter.incrementAndGet(), roles, contents,
                    ex.getRequestHeaders().getFirst("Authorization"), body, System.nanoTime());
            requests.add(r);
            Response resp;
            try {
                resp = script.respond(r);
            } catch (RuntimeException e) {
                resp = Response.status(500, Map.of(), "script failed: " + e);
            }
            if (resp.delayMillis() > 0) {
                try {
                    Thread.sleep(resp.delayMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            byte[] bytes = resp.body().getBytes(StandardCharsets.UTF_8);
            resp.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
            ex.getResponseHeaders().add("Content-Type", "application/json");
            // no longer in flight once its answer is ready: the client may send its next request the moment it reads
            // this one, possibly before this thread would get past the write
            inFlight.decrementAndGet();
            counted = false;
            try {
                ex.sendResponseHeaders(resp.status(), bytes.length == 0 ? -1 : bytes.length);
                if (bytes.length > 0) {
                    try (OutputStream os = ex.getResponseBody()) {
                        os.write(bytes);
                    }
                }
            } catch (IOException clientGone) {
                // the client timed out and closed the connection
            }
        } finally {
            if (counted) {
                inFlight.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
