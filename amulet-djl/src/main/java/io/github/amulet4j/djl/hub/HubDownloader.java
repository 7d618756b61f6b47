package io.github.amulet4j.djl.hub;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a Hub id such as {@code Qwen/Qwen2.5-0.5B-Instruct[@revision]} to a local snapshot folder in the
 * standard Hugging Face cache layout ({@code models--org--name/{blobs,refs,snapshots/<commit>}}, snapshot files
 * being symbolic links to blobs named by ETag, or copies where links fail), downloading what a model needs:
 * config, generation config, tokenizer files, chat template and safetensors weights (never .bin, .pth, .gguf or
 * ONNX). Files already in the cache, including those fetched by Python's {@code huggingface_hub}, are reused;
 * partial downloads are resumed with HTTP Range requests, within the run (bounded retries with backoff, see
 * {@link HubSettings}) and by the next run; sizes are checked; offline mode reads the cache only.
 */
public final class HubDownloader {

    private static final Logger LOG = LoggerFactory.getLogger(HubDownloader.class);
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final int MAX_REDIRECTS = 10;

    /** The non-weight files taken when the repository has them. */
    public static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "chat_template.jinja", "model.safetensors.index.json");

    private final HubSettings settings;
    private final HttpClient http;
    private final Duration stallTimeout;
    private final Duration lockTimeout;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "amulet-hub-watchdog");
        t.setDaemon(true);
        return t;
    });
    private final DownloadListener listener;

    private HubDownloader(Builder b) {
        this.settings = b.settings != null ? b.settings : HubSettings.fromEnvironment();
        this.stallTimeout = b.stallTimeout;
        this.lockTimeout = b.lockTimeout;
        this.http = b.http != null ? b.http : HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
        this.listener = b.listener;
    }

    /** A builder; by default settings come from the environment. */
    public static Builder builder() {
        return new Builder();
    }

    /** The settings in use. */
    public HubSettings settings() {
        return settings;
    }

    /** Resolves {@code org/name[@revision]}; see {@link #resolve(HubId)}. */
    public Path resolve(String hubId) throws IOException {
        return resolve(HubId.parse(hubId));
    }

    /**
     * Returns the snapshot folder of a repository revision with the model's files present, downloading what is
     * missing (or, offline, what the cache has).
     *
     * @throws HubException naming the repository and file for 401/403 (mentioning HF_TOKEN), 404, size mismatches,
     *                      downloads still interrupted after {@link HubSettings#downloadRetries()} resumed retries
     *                      (run again to resume) and offline cache misses
     */
    public Path resolve(HubId id) throws IOException {
        Path repoDir = settings.cacheDir().resolve(id.cacheFolderName());
        if (settings.offline()) {
            return cachedSnapshot(id).orElseThrow(() -> new HubException("HF_HUB_OFFLINE is set and " + id
                    + " is not in the cache " + repoDir + " (no snapshot for revision '" + id.revision() + "')"));
        }
        RepoInfo info;
        try {
            info = repoInfo(id);
        } catch (HubException e) {
            throw e;
        } catch (IOException e) {
            Optional<Path> cached = cachedSnapshot(id);
            if (cached.isPresent()) {
                LOG.warn("cannot reach {} ({}); using the cached snapshot {}", settings.endpoint(), e.toString(), cached.get());
                return cached.get();
            }
            throw new HubException("cannot reach " + settings.endpoint() + " to resolve " + id + ": " + describe(e)
                    + " (use a local model folder, set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use the cache only)", -1, e);
        }
        Path snapshot = repoDir.resolve("snapshots").resolve(info.commit());
        Files.createDirectories(snapshot);
        Files.createDirectories(repoDir.resolve("blobs"));
        if (!id.revision().equals(info.commit())) {
            Path ref = repoDir.resolve("refs").resolve(id.revision()).normalize();
            if (!ref.startsWith(repoDir.resolve("refs"))) {
                throw new HubException("invalid revision '" + id.revision() + "' for " + id.repo());
            }
            Files.createDirectories(ref.getParent());
            Files.writeString(ref, info.commit(), StandardCharsets.UTF_8);
        }
        if (!info.files().contains("config.json")) {
            throw new HubException(id + " has no config.json: not a transformers model repository (files: "
                    + preview(info.files()) + ")");
        }
        if (info.files().stream().noneMatch(f -> f.endsWith(".safetensors") && !f.contains("/"))) {
            throw new HubException(id + " has no safetensors weights (model.safetensors or "
                    + "model.safetensors.index.json); .bin, .pth, .gguf and ONNX files are not used. Files: "
                    + preview(info.files()));
        }
        List<String> wanted = new ArrayList<>();
        for (String f : MODEL_FILES) {
            if (info.files().contains(f)) {
                wanted.add(f);
            }
        }
        for (String f : wanted) {
            fetch(id.repo(), info.commit(), repoDir, snapshot, f);
        }
        for (String f : weightFiles(id, info, snapshot)) {
            fetch(id.repo(), info.commit(), repoDir, snapshot, f);
        }
        LOG.info("{} is at {}", id, snapshot);
        return snapshot;
    }

    /** The snapshot folder of a revision already in the cache, read through {@code refs/<revision>}. */
    public Optional<Path> cachedSnapshot(HubId id) throws IOException {
        Path repoDir = settings.cacheDir().resolve(id.cacheFolderName());
        String commit = id.revision();
        if (!COMMIT.matcher(commit).matches()) {
            Path ref = repoDir.resolve("refs").resolve(id.revision());
            if (!Files.isRegularFile(ref)) {
                return Optional.empty();
            }
            commit = Files.readString(ref, StandardCharsets.UTF_8).trim();
        }
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        return Files.isDirectory(snap) ? Optional.of(snap) : Optional.empty();
    }

    private static String preview(Set<String> files) {
        List<String> l = new ArrayList<>(files);
        return l.size() <= 12 ? l.toString() : l.subList(0, 12) + " and " + (l.size() - 12) + " more";
    }

    private List<String> weightFiles(HubId id, RepoInfo info, Path snapshot) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        if (info.files().contains("model.safetensors.index.json")) {
            Path index = snapshot.resolve("model.safetensors.index.json");
            try {
                JsonObject o = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8)).getAsJsonObject();
                for (var e : o.getAsJsonObject("weight_map").entrySet()) {
                    out.add(e.getValue().getAsString());
                }
            } catch (RuntimeException e) {
                throw new HubException(id + ": model.safetensors.index.json is not a valid index: " + e.getMessage(), -1, e);
            }
            for (String f : out) {
                if (!info.files().contains(f)) {
                    throw new HubException(id + ": the index lists " + f + " but the repository has no such file");
                }
            }
        } else if (info.files().contains("model.safetensors")) {
            out.add("model.safetensors");
        } else {
            for (String f : info.files()) {
                if (f.endsWith(".safetensors") && !f.contains("/")) {
                    out.add(f);
                }
            }
        }
        if (out.isEmpty()) {
            throw new HubException(id + " has no safetensors weights (model.safetensors or "
                    + "model.safetensors.index.json); .bin, .pth, .gguf and ONNX files are not used. Files: "
                    + preview(info.files()));
        }
        return new ArrayList<>(out);
    }

    private record RepoInfo(String commit, Set<String> files) {
    }

    private RepoInfo repoInfo(HubId id) throws IOException {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + id.repo() + "/revision/" + encode(id.revision()));
        HttpResponse<String> r = send(request(uri, "GET").build(), HttpResponse.BodyHandlers.ofString(), id.repo(), null);
        int redirects = 0;
        while (isRedirect(r.statusCode()) && redirects++ < MAX_REDIRECTS) {
            uri = location(uri, r.headers());
            r = send(request(uri, "GET").build(), HttpResponse.BodyHandlers.ofString(), id.repo(), null);
        }
        check(r.statusCode(), id.repo(), null, uri, r.body());
        try {
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            JsonElement sha = o.get("sha");
            if (sha == null || !sha.isJsonPrimitive() || !COMMIT.matcher(sha.getAsString()).matches()) {
                throw new HubException(uri + ": the Hub's answer has no commit 'sha' for " + id);
            }
            Set<String> files = new LinkedHashSet<>();
            JsonElement siblings = o.get("siblings");
            if (siblings != null && siblings.isJsonArray()) {
                for (JsonElement s : siblings.getAsJsonArray()) {
                    if (s.isJsonObject() && s.getAsJsonObject().has("rfilename")) {
                        files.add(s.getAsJsonObject().get("rfilename").getAsString());
                    }
                }
            }
            LOG.debug("{} is commit {} with {} files", id, sha.getAsString(), files.size());
            return new RepoInfo(sha.getAsString(), files);
        } catch (JsonParseException | IllegalStateException e) {
            throw new HubException(uri + ": the Hub's answer is not the expected JSON: " + e.getMessage(), -1, e);
        }
    }

    /** Makes {@code snapshot/filename} present: reuse, link an existing blob, or download (resuming). */
    private void fetch(String repo, String commit, Path repoDir, Path snapshot, String filename) throws IOException {
        Path target = snapshot.resolve(filename).normalize();
        if (!target.startsWith(snapshot)) {
            throw new HubException(repo + ": refusing file name outside the snapshot: " + filename);
        }
        if (Files.exists(target)) {
            LOG.debug("{}/{}: in the cache", repo, filename);
            listener.fileFinished(repo, filename, target, true);
            return;
        }
        URI resolveUri = URI.create(settings.endpoint() + "/" + repo + "/resolve/" + commit + "/" + encodePath(filename));
        FileMeta meta = head(repo, filename, resolveUri);
        Path blob = repoDir.resolve("blobs").resolve(meta.etag());
        // one writer per blob: a concurrent download (thread or process) of the same file finishes first
        try (BlobLock lock = BlobLock.acquire(repoDir, meta.etag(), repo + "/" + filename, lockTimeout)) {
            if (Files.isRegularFile(blob) && (meta.size() < 0 || Files.size(blob) == meta.size())) {
                String sha = isSha256(meta.etag()) ? sha256(blob) : null;
                if (sha == null || sha.equals(meta.etag())) {
                    LOG.debug("{}/{}: blob {} already present", repo, filename, meta.etag());
                    link(blob, target);
                    listener.fileFinished(repo, filename, target, true);
                    return;
                }
                LOG.warn("{}/{}: checksum error: the cached blob {} has SHA-256 {}, not the one its name (the Hub's ETag) "
                        + "says; deleting it and downloading the file again", repo, filename, blob, sha);
                Files.delete(blob);
            }
            download(repo, filename, meta, blob);
            link(blob, target);
        }
        listener.fileFinished(repo, filename, target, false);
    }

    private record FileMeta(String etag, long size, URI downloadUri) {
    }

    /** HEAD the resolve URL, following relative (same-host) redirects only, as huggingface_hub does. */
    private FileMeta head(String repo, String filename, URI uri) throws IOException {
        URI current = uri;
        for (int i = 0; i <= MAX_REDIRECTS; i++) {
            HttpResponse<Void> r = send(request(current, "HEAD").build(), HttpResponse.BodyHandlers.discarding(),
                    repo, filename);
            HttpHeaders h = r.headers();
            if (isRedirect(r.statusCode())) {
                URI next = location(current, h);
                if (sameHost(next, current)) {
                    current = next;
                    continue;
                }
                return meta(repo, filename, h, next);
            }
            check(r.statusCode(), repo, filename, current, null);
            return meta(repo, filename, h, current);
        }
        throw new HubException(repo + "/" + filename + ": too many redirects from " + uri);
    }

    private static FileMeta meta(String repo, String filename, HttpHeaders h, URI downloadUri) throws HubException {
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null);
        if (etag == null) {
            throw new HubException(repo + "/" + filename + ": the server sent no ETag for the file (is HF_ENDPOINT a Hub?)");
        }
        etag = etag.trim();
        if (etag.startsWith("W/")) {
            etag = etag.substring(2);
        }
        etag = etag.replace("\"", "");
        if (etag.isEmpty() || !etag.matches("[A-Za-z0-9._-]+")) {
            throw new HubException(repo + "/" + filename + ": unusable ETag '" + etag + "'");
        }
        long size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length"))
                .map(HubDownloader::parseLong).orElse(-1L);
        h.firstValue("X-Repo-Commit").ifPresent(c -> LOG.debug("{}/{}: X-Repo-Commit {}", repo, filename, c));
        return new FileMeta(etag, size, downloadUri);
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A failure worth retrying: the connection dropped or the server answered with a transient status. */
    private static final class TransientFailure extends Exception {
        private static final long serialVersionUID = 1L;

        TransientFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Downloads into {@code <blob>.incomplete} and moves it to the blob; a cut transfer is resumed from the partial
     * file (HTTP Range) up to {@link HubSettings#downloadRetries()} times, waiting {@link HubSettings#backoffBefore}.
     */
    private void download(String repo, String filename, FileMeta meta, Path blob) throws IOException {
        Path partial = blob.resolveSibling(blob.getFileName() + ".incomplete");
        for (int retry = 0; ; retry++) {
            try {
                downloadOnce(repo, filename, meta, blob, partial);
                return;
            } catch (TransientFailure f) {
                long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
                if (retry >= settings.downloadRetries()) {
                    String tries = settings.downloadRetries() == 0 ? ""
                            : " (also after " + settings.downloadRetries() + " retries)";
                    throw new HubException(repo + "/" + filename + ": " + f.getMessage() + tries + "; the partial file "
                            + partial + " (" + have + " bytes) is kept, run again to resume", -1, f.getCause());
                }
                Duration wait = settings.backoffBefore(retry + 1);
                LOG.warn("{}/{}: {}; retry {} of {} in {} ms, resuming at byte {}", repo, filename, f.getMessage(),
                        retry + 1, settings.downloadRetries(), wait.toMillis(), have);
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HubException("interrupted while waiting to retry " + repo + "/" + filename, -1, e);
                }
            }
        }
    }

    private static boolean transientStatus(int status) {
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }

    private void downloadOnce(String repo, String filename, FileMeta meta, Path blob, Path partial)
            throws IOException, TransientFailure {
        long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
        if (meta.size() >= 0 && have > meta.size()) {
            LOG.warn("{}/{}: partial file {} is larger than the file; starting over", repo, filename, partial);
            Files.delete(partial);
            have = 0;
        }
        if (meta.size() >= 0 && have == meta.size() && have > 0) {
            Files.move(partial, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        URI uri = meta.downloadUri();
        HttpResponse<InputStream> r = null;
        for (int i = 0; i <= MAX_REDIRECTS; i++) {
            HttpRequest.Builder rb = request(uri, "GET");
            if (have > 0) {
                rb.header("Range", "bytes=" + have + "-");
            }
            try {
                r = send(rb.build(), HttpResponse.BodyHandlers.ofInputStream(), repo, filename);
            } catch (HubException e) {
                throw e;
            } catch (IOException e) {
                throw new TransientFailure("request failed (" + describe(e) + ")", e);
            }
            if (!isRedirect(r.statusCode())) {
                break;
            }
            r.body().close();
            uri = location(uri, r.headers());
        }
        int status = r.statusCode();
        boolean append;
        String badRange = status == 206 ? contentRangeProblem(r.headers(), have, meta.size()) : null;
        if (badRange != null) {
            r.body().close();
            LOG.warn("{}/{}: {}; starting over", repo, filename, badRange);
            Files.deleteIfExists(partial);
            downloadOnce(repo, filename, meta, blob, partial);
            return;
        }
        if (status == 206) {
            append = true;
        } else if (status == 416 && have > 0) {
            r.body().close();
            LOG.warn("{}/{}: server refused to resume at byte {}; starting over", repo, filename, have);
            Files.delete(partial);
            downloadOnce(repo, filename, meta, blob, partial);
            return;
        } else {
            if (status != 200) {
                r.body().close();
            }
            if (transientStatus(status)) {
                throw new TransientFailure("HTTP " + status + " from " + uri, null);
            }
            check(status, repo, filename, uri, null);
            append = false;
            if (have > 0) {
                LOG.info("{}/{}: server ignored the Range request; downloading from the start", repo, filename);
            }
            have = 0;
        }
        long total = meta.size();
        if (total < 0) {
            long len = r.headers().firstValue("Content-Length").map(HubDownloader::parseLong).orElse(-1L);
            total = len >= 0 ? have + len : -1;
        }
        LOG.info("downloading {}/{} ({} bytes{})", repo, filename, total, have > 0 ? ", resuming at " + have : "");
        listener.fileStarted(repo, filename, total, have);
        long done = have;
        // the SHA-256 is computed while writing (the bytes of a resumed partial file first)
        MessageDigest digest = isSha256(meta.etag()) ? newSha256() : null;
        if (digest != null && append) {
            try (InputStream old = Files.newInputStream(partial)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = old.read(buf)) >= 0) {
                    digest.update(buf, 0, n);
                }
            }
        }
        AtomicLong lastData = new AtomicLong(System.nanoTime());
        AtomicBoolean stalled = new AtomicBoolean();
        AtomicBoolean finished = new AtomicBoolean();
        Object guard = new Object();
        Thread reader = Thread.currentThread();
        long stallNanos = stallTimeout.toNanos();
        InputStream body = r.body();
        // JDK 17's HttpClient timeout ends at the headers: a body that stops is noticed here, and its read interrupted
        ScheduledFuture<?> dog = WATCHDOG.scheduleAtFixedRate(() -> {
            synchronized (guard) {
                if (finished.get() || stalled.get() || System.nanoTime() - lastData.get() <= stallNanos) {
                    return;
                }
                stalled.set(true);
                reader.interrupt();
            }
            try {
                body.close();
            } catch (IOException ignored) {
                // the read fails anyway
            }
        }, Math.max(10, stallTimeout.toMillis() / 4), Math.max(10, stallTimeout.toMillis() / 4), TimeUnit.MILLISECONDS);
        try (InputStream in = body;
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                lastData.set(System.nanoTime());
                out.write(buf, 0, n);
                if (digest != null) {
                    digest.update(buf, 0, n);
                }
                done += n;
                listener.progress(repo, filename, done, total);
            }
        } catch (IOException e) {
            throw new TransientFailure("download interrupted after " + done + " of " + (total < 0 ? "?" : total)
                    + " bytes (" + (stalled.get() ? "no data for over " + stallTimeout.toMillis() + " ms" : describe(e))
                    + ")", e);
        } finally {
            dog.cancel(false);
            synchronized (guard) {
                finished.set(true);
                if (stalled.get()) {
                    Thread.interrupted(); // the watchdog's interrupt, not the caller's
                }
            }
        }
        long size = Files.size(partial);
        if (total >= 0 && size != total) {
            if (size > total) {
                Files.deleteIfExists(partial);
                throw new HubException(repo + "/" + filename + ": downloaded " + size + " bytes but the Hub announced "
                        + total + "; the partial file was deleted");
            }
            throw new TransientFailure("downloaded " + size + " bytes but the Hub announced " + total, null);
        }
        if (digest != null) {
            String sha = HexFormat.of().formatHex(digest.digest());
            if (!sha.equals(meta.etag())) {
                Files.deleteIfExists(partial); // never moved to the blob, never linked
                throw new TransientFailure("checksum error: the download's SHA-256 is " + sha + ", the Hub's ETag says "
                        + meta.etag() + " (the corrupt download was deleted)", null);
            }
        }
        Files.move(partial, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** An LFS file's ETag is its SHA-256 (64 hex digits); a small file's is a git blob id, which is not checked. */
    static boolean isSha256(String etag) {
        return SHA256.matcher(etag).matches();
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest d = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /**
     * What is wrong with a 206's {@code Content-Range} for a request of the bytes from {@code have} on, or null:
     * it must be {@code bytes have-END/TOTAL}, with TOTAL the file's size when that is known.
     */
    static String contentRangeProblem(HttpHeaders h, long have, long size) {
        String cr = h.firstValue("Content-Range").orElse(null);
        if (cr == null) {
            return "a 206 without Content-Range";
        }
        java.util.regex.Matcher m = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)").matcher(cr.trim());
        if (!m.matches()) {
            return "a 206 with an unreadable Content-Range '" + cr + "'";
        }
        long start = parseLong(m.group(1));
        long end = parseLong(m.group(2));
        long total = m.group(3).equals("*") ? -1 : parseLong(m.group(3));
        if (start != have || end < start || (size >= 0 && total >= 0 && total != size)
                || (total >= 0 && end != total - 1)) {
            return "a 206 for the wrong bytes (Content-Range '" + cr + "', asked from byte " + have
                    + (size >= 0 ? " of " + size : "") + ")";
        }
        return null;
    }

    /** A relative symbolic link {@code target -> ../../blobs/<etag>}, or a copy where links are not possible. */
    private static void link(Path blob, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path rel = target.getParent().relativize(blob);
        Files.deleteIfExists(target); // a dangling link left by a deleted blob
        try {
            Files.createSymbolicLink(target, rel);
        } catch (UnsupportedOperationException | FileSystemException e) {
            LOG.debug("symbolic link {} failed ({}); copying the blob", target, e.toString());
            // copied beside the target and moved into place: a reader never sees a half-copied file
            Path tmp = target.resolveSibling(target.getFileName() + ".copy-" + ProcessHandle.current().pid() + "-"
                    + Thread.currentThread().getId());
            try {
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private HttpRequest.Builder request(URI uri, String method) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(5))
                .header("User-Agent", "amulet4j-hub/0.1")
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (settings.token() != null && sameHost(uri, URI.create(settings.endpoint()))) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler, String repo, String file)
            throws IOException {
        try {
            return http.send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while fetching " + repo + (file == null ? "" : "/" + file), -1, e);
        }
    }

    private void check(int status, String repo, String file, URI uri, String body) throws HubException {
        if (status >= 200 && status < 300) {
            return;
        }
        String what = file == null ? "repository " + repo : "file " + file + " of " + repo;
        String detail = body == null || body.isBlank() ? "" : " (" + abbreviate(body) + ")";
        switch (status) {
            case 401, 403 -> throw new HubException("access to " + what + " denied (HTTP " + status + ")" + detail
                    + (settings.token() == null
                    ? ": the repository may be gated or private; set HF_TOKEN to an access token that may read it"
                    : ": the token in HF_TOKEN may not read it (gated repository: accept its terms on the Hub)"),
                    status, null);
            case 404 -> throw new HubException(what + " not found (HTTP 404) at " + uri + detail
                    + "; check the id and revision", status, null);
            default -> throw new HubException("fetching " + what + " failed: HTTP " + status + " from " + uri + detail,
                    status, null);
        }
    }

    private static String abbreviate(String s) {
        s = s.strip();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static boolean isRedirect(int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    }

    private static URI location(URI base, HttpHeaders h) throws HubException {
        String loc = h.firstValue("Location").orElseThrow(() -> new HubException("redirect without Location from " + base));
        return base.resolve(loc);
    }

    private static boolean sameHost(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String seg : path.split("/")) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(encode(seg));
        }
        return sb.toString();
    }

    /** Builds a {@link HubDownloader}. */
    public static final class Builder {
        private HubSettings settings;
        private HttpClient http;
        private DownloadListener listener = DownloadListener.NONE;
        private Duration stallTimeout = Duration.ofSeconds(60);
        private Duration lockTimeout = Duration.ofMinutes(30);

        /**
         * How long to wait for another download of the same file (a thread or process holding its blob's lock)
         * before failing with a message naming the holder (default 30 min).
         */
        public Builder lockTimeout(Duration v) {
            if (v == null || v.isNegative()) {
                throw new IllegalArgumentException("lock timeout must be >= 0, got " + v);
            }
            lockTimeout = v;
            return this;
        }

        private Builder() {
        }

        /**
         * How long a download's body may send nothing before it is cut and resumed (default 60 s; JDK 17's
         * {@code HttpClient} timeout covers only the headers).
         */
        public Builder stallTimeout(Duration v) {
            if (v == null || v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("stall timeout must be > 0, got " + v);
            }
            stallTimeout = v;
            return this;
        }

        /** Settings (default: {@link HubSettings#fromEnvironment()}). */
        public Builder settings(HubSettings v) {
            settings = Objects.requireNonNull(v, "settings");
            return this;
        }

        /** An HTTP client; it must not follow redirects itself (redirects are handled here). */
        public Builder httpClient(HttpClient v) {
            http = Objects.requireNonNull(v, "httpClient");
            return this;
        }

        /** Progress listener (default: none). */
        public Builder listener(DownloadListener v) {
            listener = Objects.requireNonNull(v, "listener");
            return this;
        }

        /** The downloader. */
        public HubDownloader build() {
            return new HubDownloader(this);
        }
    }

    /** The exception's message, or its type where it has none (a refused connection often has none). */
    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
