package io.github.amulet4j.djl.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback server with the Hub's URL layout: {@code /api/models/{repo}/revision/{rev}} (JSON with sha and
 * siblings), {@code /{repo}/resolve/{rev}/{file}} (small files: 200 with ETag; large files: 302 to
 * {@code /cdn/{etag}} with X-Linked-Etag / X-Linked-Size / X-Repo-Commit), and {@code /cdn/{etag}} honouring Range.
 * Public for the command line's download tests (published in amulet-djl's test jar).
 */
public final class FakeHubServer implements AutoCloseable {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    /** One received request. */
    record Seen(String method, String path, String range, String authorization) {
    }

    final String repo;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final Map<String, Boolean> lfs = new LinkedHashMap<>();
    /** Files the listing names but the resolve URL answers 404 for. */
    final java.util.Set<String> listedButMissing = Collections.synchronizedSet(new java.util.LinkedHashSet<>());
    final List<Seen> requests = Collections.synchronizedList(new ArrayList<>());
    /** Number of blob GETs still to cut off after half of the body. */
    final AtomicInteger interruptions = new AtomicInteger();
    private volatile int cutsPerBlob;
    private final Map<String, AtomicInteger> cutsDone = new java.util.concurrent.ConcurrentHashMap<>();
    /** When set, every request answers this status. */
    volatile int forcedStatus;
    /** When set, requests without this bearer token get 401. */
    volatile String requiredToken;
    /** Milliseconds each CDN blob request waits before answering (keeps a download in flight for tests). */
    volatile long blobDelayMillis;
    /** When set, a large file's ETag is its SHA-256, as on the real Hub. */
    volatile boolean sha256Etags;
    /** Number of blob GETs still to answer with one byte changed (same size). */
    final AtomicInteger corruptions = new AtomicInteger();
    /** When set, a Range request gets the whole file as a 206 with {@code Content-Range: bytes 0-...}. */
    volatile boolean wrongContentRange;
    /** Number of blob GETs still to stop sending after half of the body (the connection stays open). */
    final AtomicInteger hangs = new AtomicInteger();

    private final HttpServer server;

    /** Starts serving {@code repo} (e.g. {@code org/name}) on a free loopback port. */
    public FakeHubServer(String repo) throws IOException {
        this.repo = repo;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-hub");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** The base URL, for {@code HF_ENDPOINT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves {@code data} as the file {@code name}; a large file goes through a redirect to the CDN path. */
    public void add(String name, byte[] data, boolean largeFile) {
        files.put(name, data);
        lfs.put(name, largeFile);
    }

    /** From now on each blob's next {@code n} GETs are cut off after half of the body they send (per file). */
    void cutEachBlob(int n) {
        cutsDone.clear();
        cutsPerBlob = n;
    }

    static String etagOf(String name, byte[] data) {
        return "e" + Integer.toHexString(name.hashCode()) + "x" + Integer.toHexString(java.util.Arrays.hashCode(data));
    }

    String etag(String name, byte[] data) {
        if (sha256Etags && lfs.getOrDefault(name, false)) {
            try {
                return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return etagOf(name, data);
    }

    long count(String method, String pathPrefix) {
        synchronized (requests) {
            return requests.stream().filter(s -> s.method().equals(method) && s.path().startsWith(pathPrefix)).count();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        requests.add(new Seen(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"), auth));
        try {
            if (forcedStatus != 0) {
                send(ex, forcedStatus, "{\"error\":\"forced\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (requiredToken != null && !("Bearer " + requiredToken).equals(auth)) {
                send(ex, 401, "{\"error\":\"Invalid credentials\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String api = "/api/models/" + repo + "/revision/";
            String resolve = "/" + repo + "/resolve/";
            if (path.startsWith(api)) {
                StringBuilder sb = new StringBuilder("{\"id\":\"" + repo + "\",\"sha\":\"" + SHA + "\",\"siblings\":[");
                int i = 0;
                List<String> names = new ArrayList<>(files.keySet());
                names.addAll(listedButMissing);
                for (String f : names) {
                    sb.append(i++ > 0 ? "," : "").append("{\"rfilename\":\"").append(f).append("\"}");
                }
                sb.append("]}");
                send(ex, 200, sb.toString().getBytes(StandardCharsets.UTF_8));
            } else if (path.startsWith(resolve)) {
                String rest = path.substring(resolve.length());
                String file = rest.substring(rest.indexOf('/') + 1);
                byte[] data = files.get(file);
                if (data == null) {
                    send(ex, 404, "{\"error\":\"Entry not found\"}".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                String etag = etag(file, data);
                ex.getResponseHeaders().add("X-Repo-Commit", SHA);
                if (lfs.get(file)) {
                    ex.getResponseHeaders().add("X-Linked-Etag", "\"" + etag + "\"");
                    ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(data.length));
                    // an absolute URL on another "host" name for the same server: the client must not send the token there
                    ex.getResponseHeaders().add("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + etag);
                    ex.sendResponseHeaders(302, -1);
                    ex.close();
                } else {
                    ex.getResponseHeaders().add("ETag", "\"" + etag + "\"");
                    send(ex, 200, data);
                }
            } else if (path.startsWith("/cdn/")) {
                if (blobDelayMillis > 0) {
                    try {
                        Thread.sleep(blobDelayMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                String etag = path.substring(5);
                byte[] data = null;
                for (var e : files.entrySet()) {
                    if (etag(e.getKey(), e.getValue()).equals(etag)) {
                        data = e.getValue();
                    }
                }
                if (data == null) {
                    send(ex, 404, new byte[0]);
                    return;
                }
                ex.getResponseHeaders().add("ETag", "\"" + etag + "\"");
                String range = ex.getRequestHeaders().getFirst("Range");
                int from = 0;
                int status = 200;
                if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                    from = wrongContentRange ? 0 : Integer.parseInt(range.substring(6, range.length() - 1));
                    status = 206;
                    ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
                }
                if (!"HEAD".equals(ex.getRequestMethod()) && corruptions.getAndUpdate(v -> Math.max(0, v - 1)) > 0) {
                    data = data.clone();
                    data[data.length - 1] ^= 0x5a;
                }
                int len = data.length - from;
                if ("HEAD".equals(ex.getRequestMethod())) {
                    ex.getResponseHeaders().add("Content-Length", String.valueOf(len));
                    ex.sendResponseHeaders(status, -1);
                    ex.close();
                    return;
                }
                ex.sendResponseHeaders(status, len);
                OutputStream out = ex.getResponseBody();
                boolean cutThisBlob = cutsDone.computeIfAbsent(etag, k -> new AtomicInteger()).getAndIncrement() < cutsPerBlob;
                if (hangs.getAndUpdate(v -> Math.max(0, v - 1)) > 0) {
                    out.write(data, from, len / 2);
                    out.flush();
                    try {
                        Thread.sleep(60_000); // sends nothing more; the client must give up
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ex.close();
                    return;
                }
                if (interruptions.getAndUpdate(v -> Math.max(0, v - 1)) > 0 || cutThisBlob) {
                    out.write(data, from, len / 2);
                    out.flush();
                    ex.close(); // fewer bytes than announced: the connection is dropped
                    return;
                }
                out.write(data, from, len);
                out.close();
            } else {
                send(ex, 404, new byte[0]);
            }
        } catch (IOException | RuntimeException e) {
            ex.close();
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.getResponseHeaders().add("Content-Length", String.valueOf(body.length));
            ex.sendResponseHeaders(status, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Serves every regular file of {@code folder} (safetensors files as large files). */
    public void addFolder(java.nio.file.Path folder) throws IOException {
        try (var files = java.nio.file.Files.list(folder)) {
            for (java.nio.file.Path f : files.sorted().toList()) {
                if (java.nio.file.Files.isRegularFile(f)) {
                    String name = f.getFileName().toString();
                    add(name, java.nio.file.Files.readAllBytes(f), name.endsWith(".safetensors"));
                }
            }
        }
    }

    /** Number of requests received whose method is {@code method} and whose path starts with {@code pathPrefix}. */
    public long requestCount(String method, String pathPrefix) {
        return count(method, pathPrefix);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
