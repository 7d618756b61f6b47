package io.github.amulet4j.djl.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to reach the Hub, derived from the environment as {@code huggingface_hub} does:
 * cache folder {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub};
 * endpoint {@code HF_ENDPOINT} (default {@code https://huggingface.co}); token {@code HF_TOKEN}
 * (or {@code HUGGING_FACE_HUB_TOKEN}, else the file {@code HF_TOKEN_PATH} or {@code HF_HOME/token});
 * offline when {@code HF_HUB_OFFLINE} is 1/true/yes/on. A download cut mid-file is resumed within the run (HTTP
 * Range from the {@code .incomplete} file) up to {@code AMULET_HUB_DOWNLOAD_RETRIES} times per file (default
 * {@value #DEFAULT_DOWNLOAD_RETRIES}), waiting {@code AMULET_HUB_RETRY_BACKOFF_MS} milliseconds before the first retry
 * (default 1000) and twice as long before each next one, at most {@value #MAX_BACKOFF_FACTOR} times the first wait.
 *
 * @param cacheDir        the hub cache folder (holding {@code models--org--name})
 * @param endpoint        base URL without a trailing slash
 * @param token           access token, or null
 * @param offline         use the cache only
 * @param downloadRetries how many times a cut or failed file download is retried within the run (0: none)
 * @param retryBackoff    the wait before the first retry (doubled for each next one, capped)
 */
public record HubSettings(Path cacheDir, String endpoint, String token, boolean offline, int downloadRetries,
                          Duration retryBackoff) {

    /** The public Hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** Retries of one file's download within a run (huggingface_hub retries five times too). */
    public static final int DEFAULT_DOWNLOAD_RETRIES = 5;
    /** The wait before the first retry. */
    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofSeconds(1);
    /** The longest wait is this many times the first. */
    public static final int MAX_BACKOFF_FACTOR = 8;

    /** Settings with the default retries and backoff. */
    public HubSettings(Path cacheDir, String endpoint, String token, boolean offline) {
        this(cacheDir, endpoint, token, offline, DEFAULT_DOWNLOAD_RETRIES, DEFAULT_RETRY_BACKOFF);
    }

    public HubSettings {
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        if (downloadRetries < 0) {
            throw new IllegalArgumentException("download retries (AMULET_HUB_DOWNLOAD_RETRIES) must be >= 0, got "
                    + downloadRetries);
        }
        if (retryBackoff.isNegative()) {
            throw new IllegalArgumentException("retry backoff (AMULET_HUB_RETRY_BACKOFF_MS) must be >= 0, got "
                    + retryBackoff.toMillis() + " ms");
        }
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(endpoint, "endpoint");
        while (endpoint.endsWith("/")) {
            endpoint = endpoint.substring(0, endpoint.length() - 1);
        }
        if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
            throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL, got '" + endpoint + "'");
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
    }

    /** Settings from the process environment and the user's home folder. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Settings from the given environment map and home folder (for tests and embedding). */
    public static HubSettings fromEnvironment(Map<String, String> env, Path userHome) {
        Path hfHome = nonEmpty(env.get("HF_HOME")) != null ? Path.of(env.get("HF_HOME"))
                : nonEmpty(env.get("XDG_CACHE_HOME")) != null ? Path.of(env.get("XDG_CACHE_HOME"), "huggingface")
                : userHome.resolve(".cache").resolve("huggingface");
        Path cache = nonEmpty(env.get("HF_HUB_CACHE")) != null ? Path.of(env.get("HF_HUB_CACHE"))
                : nonEmpty(env.get("HUGGINGFACE_HUB_CACHE")) != null ? Path.of(env.get("HUGGINGFACE_HUB_CACHE"))
                : hfHome.resolve("hub");
        String endpoint = nonEmpty(env.get("HF_ENDPOINT")) != null ? env.get("HF_ENDPOINT") : DEFAULT_ENDPOINT;
        String token = nonEmpty(env.get("HF_TOKEN"));
        if (token == null) {
            token = nonEmpty(env.get("HUGGING_FACE_HUB_TOKEN"));
        }
        if (token == null) {
            Path tokenFile = nonEmpty(env.get("HF_TOKEN_PATH")) != null ? Path.of(env.get("HF_TOKEN_PATH"))
                    : hfHome.resolve("token");
            if (Files.isRegularFile(tokenFile)) {
                try {
                    token = nonEmpty(Files.readString(tokenFile, StandardCharsets.UTF_8).trim());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the Hub token file " + tokenFile, e);
                }
            }
        }
        String off = env.get("HF_HUB_OFFLINE");
        boolean offline = off != null && switch (off.trim().toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            default -> false;
        };
        int retries = intSetting(env, "AMULET_HUB_DOWNLOAD_RETRIES", DEFAULT_DOWNLOAD_RETRIES);
        int backoffMs = intSetting(env, "AMULET_HUB_RETRY_BACKOFF_MS", (int) DEFAULT_RETRY_BACKOFF.toMillis());
        return new HubSettings(cache, endpoint, token, offline, retries, Duration.ofMillis(backoffMs));
    }

    private static int intSetting(Map<String, String> env, String name, int dflt) {
        String v = nonEmpty(env.get(name));
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a whole number >= 0, got '" + v + "'");
    }

    /** The wait before retry number {@code retry} (1 = the first): the backoff doubled per retry, capped. */
    public Duration backoffBefore(int retry) {
        if (retry < 1) {
            throw new IllegalArgumentException("retry must be >= 1, got " + retry);
        }
        int factor = Math.min(MAX_BACKOFF_FACTOR, 1 << Math.min(retry - 1, 30));
        return retryBackoff.multipliedBy(factor);
    }

    /** The same settings with other download retries and first backoff. */
    public HubSettings withDownloadRetries(int retries, Duration backoff) {
        return new HubSettings(cacheDir, endpoint, token, offline, retries, backoff);
    }

    private static String nonEmpty(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** The same settings, offline or not. */
    public HubSettings withOffline(boolean off) {
        return new HubSettings(cacheDir, endpoint, token, off, downloadRetries, retryBackoff);
    }

    @Override
    public String toString() {
        return "HubSettings[cache=" + cacheDir + ", endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + ", downloadRetries=" + downloadRetries + ", retryBackoff=" + retryBackoff + "]";
    }
}
