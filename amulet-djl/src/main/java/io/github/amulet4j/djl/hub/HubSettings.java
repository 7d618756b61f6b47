package io.github.amulet4j.djl.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to reach the Hub, derived from the environment as {@code huggingface_hub} does:
 * cache folder {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub};
 * endpoint {@code HF_ENDPOINT} (default {@code https://huggingface.co}); token {@code HF_TOKEN}
 * (or {@code HUGGING_FACE_HUB_TOKEN}, else the file {@code HF_TOKEN_PATH} or {@code HF_HOME/token});
 * offline when {@code HF_HUB_OFFLINE} is 1/true/yes/on.
 *
 * @param cacheDir the hub cache folder (holding {@code models--org--name})
 * @param endpoint base URL without a trailing slash
 * @param token    access token, or null
 * @param offline  use the cache only
 */
public record HubSettings(Path cacheDir, String endpoint, String token, boolean offline) {

    /** The public Hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubSettings {
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
        return new HubSettings(cache, endpoint, token, offline);
    }

    private static String nonEmpty(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** The same settings, offline or not. */
    public HubSettings withOffline(boolean off) {
        return new HubSettings(cacheDir, endpoint, token, off);
    }

    @Override
    public String toString() {
        return "HubSettings[cache=" + cacheDir + ", endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + "]";
    }
}
