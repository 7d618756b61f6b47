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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

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
 *
 * <p>Limits (see {@code src-docs/security-server.md}): at most {@link ServerOptions#maxConnections()}
 * connections and worker threads; a request must arrive whole within {@link ServerOptions#readTimeoutSeconds()}
 * (the JDK server's {@code sun.net.httpserver.maxReqTime}, set by the first server of the JVM); a write that
 * blocks longer than {@link ServerOptions#writeTimeoutMillis()} cancels its request and closes its connection;
 * a non-streaming request that waits longer than {@link ServerOptions#keepAliveMillis()} is answered 200 at
 * once and its JSON body preceded by a space per interval (JSON allows leading white space), which notices a
 * client that went away (a failure after that is an error body with status 200). Without an API key, a
 * {@code Host} header other than an IP address, {@code localhost} or the {@code --host} name is a 403 (DNS
 * rebinding). A 500 says nothing of its cause; the log has it.
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
    private final ScheduledExecutorService watchdog;
    private final Set<StallGuard> writes = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    /** Exchanges being handled. */
    private final AtomicInteger active = new AtomicInteger();

    private static final Object JDK_CONFIG_LOCK = new Object();
    /** The JDK server settings the first server of this JVM applied (they are read once per JVM). */
    private static String jdkSettings;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

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
        configureJdkServer(options);
        AtomicInteger threads = new AtomicInteger();
        // one thread per connection at most (the JDK server reads headers on a worker thread, so a slow client
        // must not take a thread a quick one needs), bounded: a connection over the bound is closed at once
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, options.maxConnections(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "amulet-http-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.executor = pool;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "amulet-http-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(10, Math.min(1000, options.writeTimeoutMillis() / 4));
        watchdog.scheduleAtFixedRate(this::checkStalls, period, period, TimeUnit.MILLISECONDS);
        this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 512);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /**
     * The JDK server's own limits are system properties read once per JVM, when its first server starts: the
     * request read timeout ({@code sun.net.httpserver.maxReqTime}, which also closes a connection that sends
     * nothing for as long), the connection limit ({@code jdk.httpserver.maxConnections}) and the idle check's
     * period. Set here from the first server's options unless the user set them; a later server with other
     * values gets the first one's (logged).
     */
    private static void configureJdkServer(ServerOptions o) {
        String wanted = "readTimeout=" + o.readTimeoutSeconds() + "s, maxConnections=" + o.maxConnections();
        synchronized (JDK_CONFIG_LOCK) {
            if (jdkSettings == null) {
                setIfAbsent("sun.net.httpserver.maxReqTime", Integer.toString(o.readTimeoutSeconds()));
                setIfAbsent("jdk.httpserver.maxConnections", Integer.toString(o.maxConnections()));
                // the idle check (which closes connections that never sent a byte) runs every second, not 10
                setIfAbsent("sun.net.httpserver.clockTick", "1000");
                setIfAbsent("sun.net.httpserver.timerMillis", "1000");
                jdkSettings = wanted;
            } else if (!jdkSettings.equals(wanted)) {
                LOG.warn("the JDK HTTP server reads its limits once per JVM: this server keeps {} of the first one,"
                        + " not {}", jdkSettings, wanted);
            }
        }
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        } else {
            LOG.info("{}={} set by the user is kept", property, System.getProperty(property));
        }
    }

    /** Cancels the request and interrupts the write (which closes the connection) of every stalled writer. */
    private void checkStalls() {
        long now = System.nanoTime();
        for (StallGuard g : writes) {
            try {
                g.check(now);
            } catch (RuntimeException e) {
                LOG.warn("stall check failed", e);
            }
        }
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
        StallGuard guard = new StallGuard(ex.getResponseBody(), TimeUnit.MILLISECONDS.toNanos(options.writeTimeoutMillis()));
        ex.setStreams(null, guard);
        writes.add(guard);
        active.incrementAndGet();
        try {
            if (stopping) {
                ex.getResponseHeaders().set("Connection", "close");
                throw new ApiException(503, "server_error", null, "service_unavailable", "The server is shutting down");
            }
            checkHost(ex);
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
        } catch (RuntimeException | Error e) { // an Error (a template's stack overflow) ends this request only
            String id = HexFormat.of().formatHex(randomBytes(), 0, 6);
            LOG.error("request {} {} failed (error id {})", ex.getRequestMethod(), ex.getRequestURI().getPath(), id, e);
            sendError(ex, internalError(id));
        } finally {
            active.decrementAndGet();
            writes.remove(guard);
            try {
                ex.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the exchange failed: {}", e.toString());
            }
        }
    }

    /** A 500 that names no internal detail (the log has it, under {@code id}). */
    private static ApiException internalError(String id) {
        return new ApiException(500, "server_error", null, null,
                "The server had an internal error (error id " + id + "; the server's log has the details)");
    }

    /**
     * Without an API key, the {@code Host} header must be an IP address, {@code localhost} (or a name under
     * it) or the name the server was told to listen on: a web page whose name was rebound to this address
     * (DNS rebinding) sends its own name and gets a 403.
     */
    private void checkHost(HttpExchange ex) {
        if (options.apiKey() != null) {
            return;
        }
        String header = ex.getRequestHeaders().getFirst("Host");
        if (header == null || hostAllowed(header.trim(), options.host())) {
            return;
        }
        throw new ApiException(403, "invalid_request_error", null, "host_not_allowed",
                "Host '" + header + "' is not this server's address: without an API key only IP addresses, localhost "
                        + "and the --host name are answered (set an API key to serve other names)");
    }

    static boolean hostAllowed(String header, String boundHost) {
        String name;
        if (header.startsWith("[")) {
            int end = header.indexOf(']');
            return end > 0 && (end == header.length() - 1 || header.charAt(end + 1) == ':'); // an IPv6 literal
        }
        int colon = header.lastIndexOf(':');
        name = (colon >= 0 ? header.substring(0, colon) : header).toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return IPV4.matcher(name).matches() || name.equals("localhost") || name.endsWith(".localhost")
                || name.equalsIgnoreCase(boundHost);
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
        ((StallGuard) ex.getResponseBody()).onStall(() -> result.cancel(true));
        CompletionJson json = new CompletionJson("chatcmpl-" + HexFormat.of().formatHex(randomBytes()),
                System.currentTimeMillis() / 1000, options.modelId());
        try {
            if (req.stream()) {
                stream(ex, req, json, events, result);
            } else {
                whole(ex, json, result);
            }
        } catch (IOException e) {
            if (result.cancel(true)) {
                LOG.debug("client went away; request cancelled");
            }
            throw e;
        }
    }

    /**
     * A non-streaming answer. While it is not ready, a space (JSON allows leading white space) is written every
     * keep-alive interval after the first: a client that went away is noticed at the second write after it
     * left, and its request cancelled. Once a space was sent the status is 200, and a failure is an error body.
     */
    private void whole(HttpExchange ex, CompletionJson json, CompletableFuture<GenerationResult> result)
            throws IOException {
        OutputStream out = null;
        while (true) {
            try {
                result.get(options.keepAliveMillis(), TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException waiting) {
                if (out == null) {
                    ex.getResponseHeaders().set("Content-Type", "application/json");
                    ex.getResponseHeaders().set("Cache-Control", "no-cache");
                    ex.sendResponseHeaders(200, 0);
                    out = ex.getResponseBody();
                }
                out.write(' ');
                out.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.cancel(true);
                return;
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                break; // await says what failed
            }
        }
        if (out == null) {
            sendJson(ex, 200, json.completion(await(result)));
            return;
        }
        JsonElement body;
        try {
            body = json.completion(await(result));
        } catch (ApiException failed) {
            body = failed.body();
        }
        out.write(GSON.toJson(body).getBytes(StandardCharsets.UTF_8));
        out.flush();
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
            String id = HexFormat.of().formatHex(randomBytes(), 0, 6);
            LOG.warn("generation failed (error id {})", id, cause);
            throw internalError(id);
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

    /**
     * Graceful stop: new requests get a 503 (Connection: close) and the listening socket closes once the requests in
     * flight have finished, or after {@code timeout}: then their connections are closed (which cancels their
     * generation). The batcher is left to its owner.
     */
    public void shutdown(Duration timeout) {
        stopping = true; // from now on every request is a 503 with Connection: close
        long deadline = System.nanoTime() + timeout.toNanos();
        while (active.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (active.get() > 0) {
            LOG.info("{} requests still running after the shutdown timeout of {} ms: closing their connections",
                    active.get(), timeout.toMillis());
        }
        server.stop(0); // closes the listening socket and every connection (a running request is cancelled)
        executor.shutdownNow();
        watchdog.shutdownNow();
    }

    /** Stops listening and ends open connections at once; the batcher is left to its owner. */
    @Override
    public void close() {
        stopping = true;
        server.stop(0);
        executor.shutdownNow();
        watchdog.shutdownNow();
    }

    /**
     * The response stream of one exchange, whose writes a watchdog times: a write blocked longer than the
     * limit (a client that stopped reading) runs the stall action (cancels the request) and interrupts the
     * writer, which closes the connection's channel (an interruptible channel) and frees the thread.
     */
    static final class StallGuard extends OutputStream {
        private final OutputStream out;
        private final long limitNanos;
        private volatile Runnable onStall = () -> { };
        private Thread writer;
        private long since;
        private boolean stalled;

        StallGuard(OutputStream out, long limitNanos) {
            this.out = out;
            this.limitNanos = limitNanos;
        }

        void onStall(Runnable action) {
            this.onStall = action;
        }

        private synchronized void begin() throws IOException {
            if (stalled) {
                throw new IOException("the client stopped reading");
            }
            writer = Thread.currentThread();
            since = System.nanoTime();
        }

        /** True when the write was timed out (its interrupt is cleared). */
        private synchronized boolean end() {
            writer = null;
            if (stalled) {
                Thread.interrupted();
            }
            return stalled;
        }

        synchronized void check(long now) {
            if (writer != null && !stalled && now - since > limitNanos) {
                stalled = true;
                LOG.info("a client stopped reading for over {} ms: its request is cancelled, its connection closed",
                        TimeUnit.NANOSECONDS.toMillis(limitNanos));
                try {
                    onStall.run();
                } finally {
                    writer.interrupt();
                }
            }
        }

        private interface Op {
            void run() throws IOException;
        }

        private void timed(Op op) throws IOException {
            begin();
            boolean done = false;
            try {
                op.run();
                done = true;
            } finally {
                if (end() && done) {
                    throw new IOException("the client stopped reading");
                }
            }
        }

        @Override
        public void write(int b) throws IOException {
            timed(() -> out.write(b));
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            timed(() -> out.write(b, off, len));
        }

        @Override
        public void flush() throws IOException {
            timed(out::flush);
        }

        @Override
        public void close() throws IOException {
            timed(out::close);
        }
    }
}
