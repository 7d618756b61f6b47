package io.github.amulet4j.eval.judge;

import io.github.amulet4j.prompt.ChatMessage;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An OpenAI chat-completions judge ({@code POST {base}/chat/completions}) over the JDK's {@link HttpClient}:
 * OpenAI, vLLM, llama.cpp's server, Ollama, {@code amulet serve}, anything that speaks the protocol.
 *
 * <p>Every request has {@code temperature: 0} and the settings' timeout. A 429, a 5xx, a timeout or a broken
 * connection is retried up to {@link JudgeClientSettings#maxRetries()} times, waiting what the server asks for
 * ({@code retry-after-ms}, {@code Retry-After}; at most {@link JudgeClientSettings#maxRetryAfter()}) or else an
 * exponential backoff with jitter. A 401, 403 or 404 or a refused connection stops the run
 * ({@link JudgeException#stopsRun()}); another 4xx fails that request only.
 *
 * <p>The key goes into the {@code Authorization} header and nowhere else: error messages quote the server's body
 * with the key cut out.
 *
 * <p>Why not LangChain4j's OpenAI module: its HTTP layer turns a non-2xx answer into an exception with the status and
 * body only (the {@code Retry-After} header is dropped) and its retry policy waits a fixed backoff, so honouring
 * {@code Retry-After} would mean writing its HTTP client interface ourselves anyway; a judge call is one JSON POST,
 * and the JDK client (no new dependency) does it with the headers in reach.
 */
public final class OpenAiJudgeClient implements JudgeClient {

    /** Waits between retries (tests record the waits instead). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(OpenAiJudgeClient.class);
    private static final int BODY_SNIPPET = 300;

    private final JudgeClientSettings settings;
    private final HttpClient http;
    private final Sleeper sleeper;

    public OpenAiJudgeClient(JudgeClientSettings settings) {
        this(settings, d -> Thread.sleep(Math.max(0, d.toMillis())));
    }

    public OpenAiJudgeClient(JudgeClientSettings settings, Sleeper sleeper) {
        this.settings = settings;
        this.sleeper = sleeper;
        Duration connect = settings.timeout().compareTo(Duration.ofSeconds(30)) < 0 ? settings.timeout() : Duration.ofSeconds(30);
        // HTTP/1.1: some inference servers mishandle the h2c upgrade the JDK tries on plain http
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connect).build();
    }

    /** The request body for a conversation. */
    JsonObject body(List<ChatMessage> messages) {
        JsonObject body = new JsonObject();
        body.addProperty("model", settings.model());
        JsonArray ms = new JsonArray();
        for (ChatMessage m : messages) {
            JsonObject o = new JsonObject();
            o.addProperty("role", m.role());
            o.addProperty("content", m.content());
            ms.add(o);
        }
        body.add("messages", ms);
        body.addProperty("temperature", 0);
        if (settings.maxTokens() != null) {
            body.addProperty("max_tokens", settings.maxTokens());
        }
        return body;
    }

    @Override
    public Reply complete(List<ChatMessage> messages) throws JudgeException, InterruptedException {
        HttpRequest.Builder rb = HttpRequest.newBuilder(settings.endpoint()).timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(messages).toString(), StandardCharsets.UTF_8));
        if (settings.apiKey() != null) {
            rb.header("Authorization", "Bearer " + settings.apiKey());
        }
        HttpRequest request = rb.build();
        int attempts = settings.maxRetries() + 1;
        String lastFailure = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Duration wait = null;
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int status = response.statusCode();
                if (status >= 200 && status < 300) {
                    Optional<String> text = content(response.body());
                    if (text.isPresent()) {
                        return new Reply(text.get(), attempt);
                    }
                    lastFailure = "HTTP " + status + " with a body that is not a chat completion: " + snippet(response.body());
                } else if (status == 429 || status >= 500) {
                    lastFailure = "HTTP " + status + ": " + snippet(response.body());
                    wait = RetryAfter.of(response.headers(), Instant.now()).map(this::capRetryAfter).orElse(null);
                } else {
                    boolean stops = status == 401 || status == 403 || status == 404;
                    throw new JudgeException("HTTP " + status + " from " + settings.endpoint() + ": "
                            + snippet(response.body()) + hint(status),
                            stops ? JudgeException.Kind.STOPS_RUN : JudgeException.Kind.THIS_PROMPT);
                }
            } catch (HttpTimeoutException e) {
                lastFailure = "no reply within " + seconds(settings.timeout()) + " (--judge-timeout)";
            } catch (ConnectException e) {
                throw new JudgeException("cannot connect to " + settings.endpoint() + ": "
                        + redact(String.valueOf(e.getMessage())) + " (is the judge server running, is --judge-url right?)", JudgeException.Kind.STOPS_RUN);
            } catch (IOException e) {
                lastFailure = "I/O error: " + redact(String.valueOf(e.getMessage()));
            }
            if (attempt == attempts) {
                break;
            }
            if (wait == null) {
                wait = backoff(attempt);
            }
            LOG.warn("judge: {}; retry {} of {} in {}", lastFailure, attempt, settings.maxRetries(), seconds(wait));
            sleeper.sleep(wait);
        }
        throw new JudgeException("judge request failed after " + attempts + " attempt" + (attempts == 1 ? "" : "s")
                + ": " + lastFailure, JudgeException.Kind.RETRIES_EXHAUSTED);
    }

    /** The reply text of a chat-completions body ({@code ""} for a null content), or empty when it is not one. */
    static Optional<String> content(String body) {
        try {
            JsonElement root = JsonParser.parseString(body);
            JsonElement message = root.getAsJsonObject().getAsJsonArray("choices").get(0).getAsJsonObject().get("message");
            JsonElement content = message.getAsJsonObject().get("content");
            return Optional.of(content == null || content.isJsonNull() ? "" : content.getAsString());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The exponential backoff before retry {@code attempt} (1-based): half fixed, half random. */
    Duration backoff(int attempt) {
        long base = settings.initialBackoff().toMillis();
        long d = base << Math.min(attempt - 1, 20);
        d = Math.min(d, settings.maxBackoff().toMillis());
        return Duration.ofMillis(d / 2 + ThreadLocalRandom.current().nextLong(d / 2 + 1));
    }

    private Duration capRetryAfter(Duration d) {
        return d.compareTo(settings.maxRetryAfter()) > 0 ? settings.maxRetryAfter() : d;
    }

    private String snippet(String body) {
        // redacted before it is cut: a key cut in two at the end would no longer match, and half of it would show
        String s = body == null ? "" : redact(body).strip().replaceAll("\\s+", " ");
        if (s.length() > BODY_SNIPPET) {
            s = s.substring(0, BODY_SNIPPET) + "...";
        }
        return s.isEmpty() ? "(empty body)" : s;
    }

    /** {@code s} with the API key cut out. */
    String redact(String s) {
        String key = settings.apiKey();
        return key == null || s == null ? s : s.replace(key, "[key]");
    }

    private static String hint(int status) {
        return switch (status) {
            case 401, 403 -> " (is the key right? it is read from the variable --judge-key-env names)";
            case 404 -> " (is --judge-url the base URL ending in /v1, is --judge-model served there?)";
            default -> "";
        };
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
