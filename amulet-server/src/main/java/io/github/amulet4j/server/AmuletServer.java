package io.github.amulet4j.server;



import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.PromptTooLongException;
import io.github.amulet4j.generate.QueueFullException;
import io.github.amulet4j.generate.TokenListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP server over an {@link AmuletBatcher}: {@code POST /v1/chat/completions} (whole
 * answers or server-sent events), {@code GET /v1/models}, {@code GET /health}, and a page at {@code /} to try
 * preferences. Every request joins the batcher's running batch, so concurrent clients share each forward
 * pass.
 *
 * <p>It runs on the JDK's {@code com.sun.net.httpserver}: no dependency, HTTP/1.1 with chunked streaming,
 * which is all a local model server needs. Safety: binds where {@link ServerOptions#host()} says
 * ({@code 127.0.0.1} by default); with an API key every {@code /v1} call needs {@code Authorization: Bearer};
 * bodies over {@link ServerOptions#maxBodyBytes()} are a 413; POST bodies must be {@code application/json}
 * (so a web page elsewhere cannot post to it without a CORS preflight, which it does not answer); a request
 * names only the served model and text, so it cannot make the server read files or reach other hosts. A
 * streaming client that goes away is noticed at its next write (a token or the keep-alive comment) and its
 * request cancelled, which frees its streams at the next step.
 */
public final class AmuletServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AmuletServer.class);
    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private static final String PAGE = "index.html";
    private static final Object DONE = new Object();
    private static final SecureRandom IDS = new SecureRandom();
    /** Most bytes of an oversize body read (and dropped) before the 413 is sent. */
    private static final long DRAIN_BYTES = 64L << 20;

    private final AmuletBatcher batcher;
    private final ServerOptions options;
    private final ChatRequestParser parser;
    private final HttpServer server;
    private final ExecutorService executor;
    private final long started = System.currentTimeMillis() / 1000;
    private final byte[] page;

    private AmuletServer(AmuletBatcher batcher, ServerOptions options) throws IOException {
        this.batcher = batcher;
        this.options = options;
        this.parser = new ChatRequestParser(options.modelId(), options.defaults(), options.promptStyle());
        try (InputStream in = AmuletServer.class.getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IllegalStateException("the web page " + PAGE + " is missing from the jar");
            }
            this.page = in.readAllBytes();
        }
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "amulet-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 512);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /**
     * Starts serving {@code batcher}'s model.
     *
     * @throws IOException when the address cannot be bound
     */
    public static AmuletServer start(AmuletBatcher batcher, ServerOptions options) throws IOException {
        AmuletServer s = new AmuletServer(batcher, options);
        if (options.apiKey() == null && !s.address().getAddress().isLoopbackAddress()) {
            LOG.warn("listening on {} without an API key: anyone who reaches this address can use the model",
                    s.address());
        }
        return s;
    }

    /** The bound address (with the real port when {@link ServerOptions#port()} was 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** {@code http://host:port}. */
    public URI uri() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + a.getPort());
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
            switch (path) {
                case "/", "/index.html" -> {
                    allow(method, "GET");
                    sendPage(ex);
                }
                case "/health" -> {
                    allow(method, "GET");
                    sendJson(ex, 200, health());
                }
                case "/v1/models" -> {
                    authorize(ex);
                    allow(method, "GET");
                    sendJson(ex, 200, models());
                }
                case "/v1/chat/completions" -> {
                    authorize(ex);
                    allow(method, "POST");
                    chat(ex);
                }
                default -> throw new ApiException(404, "invalid_request_error", null, "not_found",
                        "Unknown path " + path + " (this server has /v1/chat/completions, /v1/models, /health and /)");
            }
        } catch (ApiException e) {
            sendError(ex, e);
        } catch (IOException e) {
            LOG.debug("client connection failed: {}", e.toString());
        } catch (RuntimeException e) {
            LOG.error("request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            sendError(ex, new ApiException(500, "server_error", null, null, "internal error: " + e));
        } finally {
            ex.close();
        }
    }

    private static void allow(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                    "Method " + method + " is not allowed here; use " + allowed);
        }
    }

    private void authorize(HttpExchange ex) {
        String key = options.apiKey();
        if (key == null) {
            return;
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        if (!MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    header == null ? "Missing API key: send 'Authorization: Bearer KEY'" : "Incorrect API key provided");
        }
    }

    private JsonObject health() {
        JsonObject o = new JsonObject();
        o.addProperty("status", "ok");
        o.addProperty("model", options.modelId());
        o.addProperty("running_requests", batcher.runningRequests());
        o.addProperty("running_streams", batcher.runningStreams());
        o.addProperty("queued_requests", batcher.queuedRequests());
        o.addProperty("max_batch", batcher.options().maxBatchStreams());
        o.addProperty("max_queue", batcher.options().maxQueue());
        JsonObject cache = new JsonObject();
        var stats = batcher.model().promptCacheStats();
        cache.addProperty("enabled", stats.isPresent());
        stats.ifPresent(st -> {
            cache.addProperty("lookups", st.lookups());
            cache.addProperty("hits", st.hits());
            cache.addProperty("tokens_reused", st.tokensReused());
            cache.addProperty("tokens_prefilled", st.tokensPrefilled());
            cache.addProperty("entries", st.entries());
            cache.addProperty("bytes_held", st.bytesHeld());
            cache.addProperty("budget_bytes", st.budgetBytes());
            cache.addProperty("evictions", st.evictions());
        });
        o.add("prompt_cache", cache);
        return o;
    }

    private JsonObject models() {
        JsonObject m = new JsonObject();
        m.addProperty("id", options.modelId());
        m.addProperty("object", "model");
        m.addProperty("created", started);
        m.addProperty("owned_by", "amulet");
        JsonArray data = new JsonArray();
        data.add(m);
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return o;
    }

    private void chat(HttpExchange ex) throws IOException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.trim().toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw ApiException.invalid(null, "Content-Type must be application/json, got " + type);
        }
        ChatRequest req = parser.parse(readBody(ex));
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        TokenListener listener = (request, tokenId, delta) -> {
            if (!delta.isEmpty()) {
                events.add(delta);
            }
        };
        CompletableFuture<GenerationResult> result;
        try {
            result = batcher.submit(req.request(), listener);
        } catch (PromptTooLongException e) {
            throw new ApiException(400, "invalid_request_error", "messages", "context_length_exceeded",
                    "This model's context is " + e.maxPositions() + " tokens; the prompt has " + e.promptTokens()
                            + " tokens");
        } catch (QueueFullException e) {
            ex.getResponseHeaders().set("Retry-After", "1");
            throw new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded",
                    "The server is busy (" + e.getMessage() + "); retry later");
        } catch (RejectedExecutionException e) {
            throw new ApiException(503, "server_error", null, "service_unavailable", "The server is shutting down");
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        }
        result.whenComplete((r, e) -> events.add(DONE));
        CompletionJson json = new CompletionJson("chatcmpl-" + HexFormat.of().formatHex(randomBytes()),
                System.currentTimeMillis() / 1000, options.modelId());
        if (!req.stream()) {
            sendJson(ex, 200, json.completion(await(result)));
            return;
        }
        try {
            stream(ex, req, json, events, result);
        } catch (IOException e) {
            if (result.cancel(true)) {
                LOG.debug("client went away; request cancelled");
            }
            throw e;
        }
    }

    private void stream(HttpExchange ex, ChatRequest req, CompletionJson json, BlockingQueue<Object> events,
            CompletableFuture<GenerationResult> result) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        boolean usageField = req.includeUsage();
        event(out, json.roleChunk(usageField));
        while (true) {
            Object e;
            try {
                e = events.poll(options.keepAliveMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                result.cancel(true);
                return;
            }
            if (e == null) {
                out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            } else if (e == DONE) {
                break;
            } else {
                event(out, json.contentChunk((String) e, usageField));
            }
        }
        GenerationResult r;
        try {
            r = await(result);
        } catch (ApiException failed) {
            event(out, failed.body());
            return;
        }
        event(out, json.finishChunk(r.finishReason(), usageField));
        if (req.includeUsage()) {
            event(out, json.usageChunk(r));
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void event(OutputStream out, JsonElement data) throws IOException {
        out.write(("data: " + GSON.toJson(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static GenerationResult await(CompletableFuture<GenerationResult> result) {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.cancel(true);
            throw new ApiException(503, "server_error", null, "service_unavailable", "interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            LOG.warn("generation failed", cause);
            throw new ApiException(500, "server_error", null, null, "generation failed: " + cause);
        } catch (java.util.concurrent.CancellationException e) {
            throw new ApiException(503, "server_error", null, "service_unavailable", "the request was cancelled");
        }
    }

    private String readBody(HttpExchange ex) throws IOException {
        int limit = options.maxBodyBytes();
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalid(null, "bad Content-Length header: " + length);
            }
            if (declared > limit) {
                throw tooLarge(ex, limit);
            }
        }
        InputStream in = ex.getRequestBody();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            body.write(buf, 0, n);
            if (body.size() > limit) {
                throw tooLarge(ex, limit);
            }
        }
        return body.toString(StandardCharsets.UTF_8);
    }

    /**
     * The 413. The rest of the body (up to {@link #DRAIN_BYTES}) is read and dropped first: closing a socket
     * with unread input resets it, and the client would lose the answer.
     */
    private static ApiException tooLarge(HttpExchange ex, int limit) {
        ex.getResponseHeaders().set("Connection", "close");
        try {
            InputStream in = ex.getRequestBody();
            byte[] buf = new byte[65536];
            long drained = 0;
            int n;
            while (drained < DRAIN_BYTES && (n = in.read(buf)) > 0) {
                drained += n;
            }
        } catch (IOException e) {
            LOG.debug("draining an oversize body failed: {}", e.toString());
        }
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "The request body exceeds the server's limit of " + limit + " bytes");
    }

    private void sendPage(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        ex.getResponseHeaders().set("Content-Security-Policy",
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        ex.sendResponseHeaders(200, page.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(page);
        }
    }

    private static void sendJson(HttpExchange ex, int status, JsonElement body) throws IOException {
        byte[] bytes = GSON.toJson(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sendError(HttpExchange ex, ApiException e) {
        if (ex.getResponseCode() != -1) {
            return; // headers already sent (a stream): nothing more can be said
        }
        try {
            sendJson(ex, e.status(), e.body());
        } catch (IOException io) {
            LOG.debug("could not send the error: {}", io.toString());
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        IDS.nextBytes(b);
        return b;
    }

    /** Stops listening and ends open connections; the batcher is left to its owner. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
