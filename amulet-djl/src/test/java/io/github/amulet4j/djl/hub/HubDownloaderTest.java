package io.github.amulet4j.djl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubDownloaderTest {

    private static final String REPO = "org/tiny-model";

    @TempDir
    Path tmp;

    FakeHubServer hub;
    byte[] weights;
    Path cache;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHubServer(REPO);
        weights = new byte[300_000];
        new Random(5).nextBytes(weights);
        hub.add("config.json", "{\"architectures\":[\"LlamaForCausalLM\"]}".getBytes(StandardCharsets.UTF_8), false);
        hub.add("tokenizer.json", "{\"model\":{}}".getBytes(StandardCharsets.UTF_8), false);
        hub.add("tokenizer_config.json", "{}".getBytes(StandardCharsets.UTF_8), false);
        hub.add("model.safetensors", weights, true);
        hub.add("pytorch_model.bin", new byte[] {1, 2, 3}, true);
        hub.add("README.md", "hi".getBytes(StandardCharsets.UTF_8), false);
        cache = tmp.resolve("hub-cache");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private HubDownloader downloader(Map<String, String> extraEnv, DownloadListener listener) {
        Map<String, String> env = new HashMap<>();
        env.put("HF_HUB_CACHE", cache.toString());
        env.put("HF_ENDPOINT", hub.endpoint() + "/");
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
        env.putAll(extraEnv);
        return HubDownloader.builder().settings(HubSettings.fromEnvironment(env, tmp.resolve("home")))
                .listener(listener).build();
    }

    @Test
    void downloadsIntoTheStandardCacheLayoutAndReusesIt() throws IOException {
        List<String> finished = new ArrayList<>();
        long[] lastProgress = {0};
        DownloadListener listener = new DownloadListener() {
            @Override
            public void progress(String repo, String filename, long done, long total) {
                if (filename.equals("model.safetensors")) {
                    lastProgress[0] = done;
                    assertEquals(weights.length, total);
                }
            }

            @Override
            public void fileFinished(String repo, String filename, Path path, boolean fromCache) {
                finished.add(filename + (fromCache ? ":cache" : ":new"));
            }
        };
        Path snap = downloader(Map.of("HF_TOKEN", "secret"), listener).resolve(REPO);
        Path repoDir = cache.resolve("models--org--tiny-model");
        assertEquals(repoDir.resolve("snapshots").resolve(FakeHubServer.SHA), snap);
        assertEquals(FakeHubServer.SHA, Files.readString(repoDir.resolve("refs/main")));
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
        assertTrue(Files.isSymbolicLink(snap.resolve("model.safetensors")));
        String etag = FakeHubServer.etagOf("model.safetensors", weights);
        assertEquals(repoDir.resolve("blobs").resolve(etag),
                snap.resolve("model.safetensors").toRealPath());
        assertEquals("../../blobs/" + etag, Files.readSymbolicLink(snap.resolve("model.safetensors")).toString());
        assertTrue(Files.exists(snap.resolve("config.json")));
        assertTrue(Files.exists(snap.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(snap.resolve("pytorch_model.bin")));
        assertFalse(Files.exists(snap.resolve("README.md")));
        assertEquals(weights.length, lastProgress[0]);
        assertTrue(finished.contains("model.safetensors:new"), finished.toString());
        // the token reaches the Hub but not the CDN host the weights redirect to
        for (FakeHubServer.Seen s : hub.requests) {
            if (s.path().startsWith("/cdn/")) {
                assertNull(s.authorization(), "token sent to the CDN: " + s);
            } else {
                assertEquals("Bearer secret", s.authorization(), s.toString());
            }
        }
        assertEquals(0, hub.count("GET", "/org/tiny-model/resolve/pytorch_model.bin"));

        // second resolve: metadata only, no file requests
        hub.requests.clear();
        finished.clear();
        assertEquals(snap, downloader(Map.of(), listener).resolve(REPO + "@main"));
        assertEquals(0, hub.count("GET", "/cdn/") + hub.count("GET", "/org/tiny-model/resolve/")
                + hub.count("HEAD", "/org/tiny-model/resolve/"), hub.requests.toString());
        assertTrue(finished.contains("model.safetensors:cache"), finished.toString());
    }

    @Test
    void concurrentDownloadsOfTheSameModelFetchTheWeightsOnce() throws Exception {
        hub.blobDelayMillis = 400; // the first download is still in flight when the second reaches the blob
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Path>> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                runs.add(pool.submit(() -> {
                    start.await();
                    return downloader(Map.of(), new DownloadListener() { }).resolve(REPO);
                }));
            }
            start.countDown();
            Path a = runs.get(0).get();
            Path b = runs.get(1).get();
            assertEquals(a, b);
            assertArrayEquals(weights, Files.readAllBytes(a.resolve("model.safetensors")));
            assertEquals(1, hub.count("GET", "/cdn/"), hub.requests.toString());
            String etag = FakeHubServer.etagOf("model.safetensors", weights);
            assertTrue(Files.exists(cache.resolve(".locks/models--org--tiny-model").resolve(etag + ".lock")),
                    "the lock file sits where huggingface_hub puts its own");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCorruptBlobOfTheRightSizeIsRefusedAndDownloadedAgain() throws IOException {
        hub.sha256Etags = true;
        Path snap = downloader(Map.of(), DownloadListener.NONE).resolve(REPO);
        Path blob = snap.resolve("model.safetensors").toRealPath();
        byte[] bad = weights.clone();
        bad[17] ^= 1;
        Files.write(blob, bad); // same size, one bit changed
        Files.delete(snap.resolve("model.safetensors"));
        hub.requests.clear();
        Path again = downloader(Map.of(), DownloadListener.NONE).resolve(REPO);
        assertArrayEquals(weights, Files.readAllBytes(again.resolve("model.safetensors")),
                "the corrupt blob was not linked: it was downloaded again");
        assertEquals(1, hub.count("GET", "/cdn/"), hub.requests.toString());
    }

    @Test
    void aCorruptDownloadIsRetriedAndNeverLinked() throws IOException {
        hub.sha256Etags = true;
        hub.corruptions.set(1);
        Path snap = downloader(Map.of(), DownloadListener.NONE).resolve(REPO);
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
        assertEquals(2, hub.count("GET", "/cdn/"), "the corrupt download was fetched again");

        // corrupt every time: a checksum error, and nothing is linked into the snapshot
        cache = tmp.resolve("hub-cache-2");
        hub.corruptions.set(100);
        HubException e = assertThrows(HubException.class,
                () -> downloader(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "1"), DownloadListener.NONE).resolve(REPO));
        assertTrue(e.getMessage().contains("checksum error"), e.getMessage());
        Path snap2 = cache.resolve("models--org--tiny-model/snapshots").resolve(FakeHubServer.SHA);
        assertFalse(Files.exists(snap2.resolve("model.safetensors")));
        try (var blobs = Files.list(cache.resolve("models--org--tiny-model/blobs"))) {
            assertTrue(blobs.noneMatch(b -> b.getFileName().toString().equals(hub.etag("model.safetensors", weights))),
                    "no corrupt blob is kept");
        }
    }

    @Test
    void a206ForTheWrongBytesStartsOver() throws IOException {
        hub.interruptions.set(1);
        HubDownloader d = downloader(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "0"), DownloadListener.NONE);
        assertThrows(HubException.class, () -> d.resolve(REPO));
        hub.wrongContentRange = true; // the server sends the whole file as a 206 "bytes 0-..."
        Path snap = d.resolve(REPO);
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
    }

    @Test
    void aBodyThatStopsIsCutByTheStallWatchdogAndResumed() throws IOException {
        hub.hangs.set(1);
        Map<String, String> env = new HashMap<>();
        env.put("HF_HUB_CACHE", cache.toString());
        env.put("HF_ENDPOINT", hub.endpoint() + "/");
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
        env.put("AMULET_HUB_DOWNLOAD_RETRIES", "2");
        HubDownloader d = HubDownloader.builder().settings(HubSettings.fromEnvironment(env, tmp.resolve("home")))
                .stallTimeout(java.time.Duration.ofMillis(500)).build();
        long t0 = System.nanoTime();
        Path snap = d.resolve(REPO);
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
        assertTrue(System.nanoTime() - t0 < java.util.concurrent.TimeUnit.SECONDS.toNanos(20),
                "the stalled body was given up long before the server's 60 s");
        assertEquals(2, hub.count("GET", "/cdn/"));
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void contentRangeChecks() {
        java.net.http.HttpHeaders ok = java.net.http.HttpHeaders.of(Map.of("Content-Range", List.of("bytes 10-99/100")),
                (a, b) -> true);
        assertEquals(null, HubDownloader.contentRangeProblem(ok, 10, 100));
        assertTrue(HubDownloader.contentRangeProblem(ok, 0, 100) != null);
        assertTrue(HubDownloader.contentRangeProblem(ok, 10, 200) != null);
        assertTrue(HubDownloader.contentRangeProblem(java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true), 10, 100)
                != null);
    }

    @Test
    void resumesAnInterruptedDownload() throws IOException {
        hub.interruptions.set(1);
        HubDownloader d = downloader(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "0"), DownloadListener.NONE);
        HubException e = assertThrows(HubException.class, () -> d.resolve(REPO));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("resume"), e.getMessage());
        Path blobs = cache.resolve("models--org--tiny-model/blobs");
        Path partial = blobs.resolve(FakeHubServer.etagOf("model.safetensors", weights) + ".incomplete");
        assertTrue(Files.exists(partial));
        long have = Files.size(partial);
        assertTrue(have > 0 && have < weights.length, "partial size " + have);

        hub.requests.clear();
        Path snap = d.resolve(REPO);
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
        assertFalse(Files.exists(partial));
        List<FakeHubServer.Seen> cdn = hub.requests.stream().filter(s -> s.path().startsWith("/cdn/")).toList();
        assertEquals(1, cdn.size(), cdn.toString());
        assertEquals("bytes=" + have + "-", cdn.get(0).range());
    }

    /** Two shards, each cut once (then twice) mid-file: one run resumes each from its partial file. */
    @Test
    void resumesCutDownloadsWithinTheRun() throws IOException {
        byte[] shard2 = new byte[200_000];
        new Random(6).nextBytes(shard2);
        hub.files.remove("model.safetensors");
        hub.lfs.remove("model.safetensors");
        hub.add("model-00001-of-00002.safetensors", weights, true);
        hub.add("model-00002-of-00002.safetensors", shard2, true);
        hub.add("model.safetensors.index.json", ("{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8), false);
        for (int cuts = 1; cuts <= 2; cuts++) {
            hub.cutEachBlob(cuts);
            hub.requests.clear();
            Path runCache = tmp.resolve("cache-" + cuts);
            Map<String, String> env = Map.of("HF_HUB_CACHE", runCache.toString(), "AMULET_HUB_RETRY_BACKOFF_MS", "1");
            Path snap = downloader(env, DownloadListener.NONE).resolve(REPO);
            assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model-00001-of-00002.safetensors")));
            assertArrayEquals(shard2, Files.readAllBytes(snap.resolve("model-00002-of-00002.safetensors")));
            for (byte[] data : List.of(weights, shard2)) {
                String etag = FakeHubServer.etagOf(data == weights ? "model-00001-of-00002.safetensors"
                        : "model-00002-of-00002.safetensors", data);
                List<String> ranges = hub.requests.stream().filter(s -> s.path().equals("/cdn/" + etag))
                        .map(FakeHubServer.Seen::range).toList();
                // first GET whole, then each retry resumes further on, where the partial file ends
                assertEquals(cuts + 1, ranges.size(), ranges.toString());
                assertNull(ranges.get(0));
                long previous = 0;
                for (String range : ranges.subList(1, ranges.size())) {
                    assertTrue(range.startsWith("bytes=") && range.endsWith("-"), range);
                    long from = Long.parseLong(range.substring(6, range.length() - 1));
                    assertTrue(from > previous && from < data.length, ranges.toString());
                    previous = from;
                }
                assertFalse(Files.exists(runCache.resolve("models--org--tiny-model/blobs/" + etag + ".incomplete")));
            }
        }
    }

    /** More cuts than retries: today's clear error, naming the file and the retries, with the partial file kept. */
    @Test
    void retriesAreBoundedThenTheErrorSaysRunAgain() throws IOException {
        hub.cutEachBlob(3);
        HubDownloader d = downloader(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "2", "AMULET_HUB_RETRY_BACKOFF_MS", "1"),
                DownloadListener.NONE);
        HubException e = assertThrows(HubException.class, () -> d.resolve(REPO));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("after 2 retries")
                && e.getMessage().contains("run again to resume"), e.getMessage());
        assertEquals(3, hub.count("GET", "/cdn/"), "one try and two retries");
        String etag = FakeHubServer.etagOf("model.safetensors", weights);
        assertTrue(Files.size(cache.resolve("models--org--tiny-model/blobs/" + etag + ".incomplete")) > 0);
        Path snap = d.resolve(REPO); // the fourth GET is not cut: the next run finishes it
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
    }

    @Test
    void retrySettingsAndBackoff() {
        Path home = tmp.resolve("h");
        HubSettings s = HubSettings.fromEnvironment(Map.of(), home);
        assertEquals(5, s.downloadRetries());
        assertEquals(java.time.Duration.ofSeconds(1), s.retryBackoff());
        assertEquals(List.of(1000L, 2000L, 4000L, 8000L, 8000L, 8000L),
                java.util.stream.IntStream.rangeClosed(1, 6).mapToObj(i -> s.backoffBefore(i).toMillis()).toList());
        HubSettings t = HubSettings.fromEnvironment(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "0",
                "AMULET_HUB_RETRY_BACKOFF_MS", "250"), home);
        assertEquals(0, t.downloadRetries());
        assertEquals(500, t.backoffBefore(2).toMillis());
        assertEquals(t, t.withOffline(true).withOffline(false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubSettings.fromEnvironment(Map.of("AMULET_HUB_DOWNLOAD_RETRIES", "-1"), home));
        assertTrue(e.getMessage().contains("AMULET_HUB_DOWNLOAD_RETRIES") && e.getMessage().contains("-1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> HubSettings.fromEnvironment(Map.of("AMULET_HUB_RETRY_BACKOFF_MS", "soon"), home));
    }

    @Test
    void reusesASnapshotMadeByPythonAndWorksOffline() throws IOException {
        // lay out the cache as huggingface_hub would, with files the Java side did not write
        Path repoDir = cache.resolve("models--org--tiny-model");
        Path snap = repoDir.resolve("snapshots").resolve(FakeHubServer.SHA);
        Files.createDirectories(snap);
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), FakeHubServer.SHA);
        for (var f : hub.files.entrySet()) {
            if (!f.getKey().endsWith(".bin") && !f.getKey().endsWith(".md")) {
                Files.write(snap.resolve(f.getKey()), f.getValue());
            }
        }
        hub.requests.clear();
        assertEquals(snap, downloader(Map.of("HF_HUB_OFFLINE", "1"), DownloadListener.NONE).resolve(REPO));
        assertTrue(hub.requests.isEmpty(), hub.requests.toString());
        assertEquals(snap, downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        assertEquals(0, hub.count("GET", "/cdn/") + hub.count("HEAD", "/org/"), hub.requests.toString());
        // offline miss names the repository and the cache
        HubException e = assertThrows(HubException.class,
                () -> downloader(Map.of("HF_HUB_OFFLINE", "true"), DownloadListener.NONE).resolve("org/other@v2"));
        assertTrue(e.getMessage().contains("org/other") && e.getMessage().contains(cache.toString()), e.getMessage());
    }

    @Test
    void unreachableServerFallsBackToTheCache() throws IOException {
        Path snap = downloader(Map.of(), DownloadListener.NONE).resolve(REPO);
        hub.close();
        assertEquals(snap, downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        HubException e = assertThrows(HubException.class,
                () -> downloader(Map.of(), DownloadListener.NONE).resolve("org/never-seen"));
        assertTrue(e.getMessage().contains("org/never-seen") && e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
    }

    @Test
    void authorisationAndMissingRepositoryErrors() {
        hub.requiredToken = "right";
        HubException e = assertThrows(HubException.class, () -> downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        assertEquals(401, e.status());
        assertTrue(e.getMessage().contains("HF_TOKEN") && e.getMessage().contains(REPO), e.getMessage());
        e = assertThrows(HubException.class,
                () -> downloader(Map.of("HF_TOKEN", "wrong"), DownloadListener.NONE).resolve(REPO));
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
        hub.requiredToken = null;
        e = assertThrows(HubException.class, () -> downloader(Map.of(), DownloadListener.NONE).resolve("org/missing"));
        assertEquals(404, e.status());
        assertTrue(e.getMessage().contains("org/missing"), e.getMessage());
        hub.forcedStatus = 403;
        e = assertThrows(HubException.class, () -> downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        assertEquals(403, e.status());
    }

    @Test
    void missingFileNamesIt() throws IOException {
        hub.add("chat_template.jinja", "{{ x }}".getBytes(StandardCharsets.UTF_8), false);
        Path snap = downloader(Map.of(), DownloadListener.NONE).resolve(REPO);
        assertEquals("{{ x }}", Files.readString(snap.resolve("chat_template.jinja")));
        hub.listedButMissing.add("generation_config.json");
        HubException e = assertThrows(HubException.class, () -> downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        assertEquals(404, e.status());
        assertTrue(e.getMessage().contains("generation_config.json") && e.getMessage().contains(REPO), e.getMessage());
    }

    @Test
    void repositoryWithoutSafetensorsIsRejected() {
        hub.files.remove("model.safetensors");
        HubException e = assertThrows(HubException.class, () -> downloader(Map.of(), DownloadListener.NONE).resolve(REPO));
        assertTrue(e.getMessage().contains("safetensors") && e.getMessage().contains("pytorch_model.bin"), e.getMessage());        assertEquals(0, hub.count("GET", "/org/tiny-model/resolve/"), "nothing downloaded before the check");
    }

    @Test
    void settingsFromEnvironment() throws IOException {
        Path home = tmp.resolve("h");
        HubSettings s = HubSettings.fromEnvironment(Map.of(), home);
        assertEquals(home.resolve(".cache/huggingface/hub"), s.cacheDir());
        assertEquals("https://huggingface.co", s.endpoint());
        assertNull(s.token());
        assertFalse(s.offline());
        s = HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString()), home);
        assertEquals(tmp.resolve("hf/hub"), s.cacheDir());
        Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(tmp.resolve("hf/token"), "from-file\n");
        assertEquals("from-file", HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString()), home).token());
        assertEquals("env", HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_TOKEN", "env"),
                home).token());
        assertThrows(IllegalArgumentException.class,
                () -> HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "ftp://x"), home));
    }

    @Test
    void hubIds() {
        assertEquals(new HubId("Qwen/Qwen2.5-0.5B-Instruct", "main"), HubId.parse("Qwen/Qwen2.5-0.5B-Instruct"));
        assertEquals(new HubId("a/b", "v1.0"), HubId.parse("a/b@v1.0"));
        assertEquals("models--Qwen--Qwen2.5-0.5B-Instruct", HubId.parse("Qwen/Qwen2.5-0.5B-Instruct").cacheFolderName());
        assertTrue(HubId.looksLikeHubId("meta-llama/Llama-3.2-1B"));
        assertFalse(HubId.looksLikeHubId("/tmp/model"));
        assertFalse(HubId.looksLikeHubId("./model"));
        assertThrows(IllegalArgumentException.class, () -> HubId.parse("a/../b"));
        assertThrows(IllegalArgumentException.class, () -> HubId.parse("a/b/c"));
        assertThrows(IllegalArgumentException.class, () -> HubId.parse("a/b@"));
    }
}
