package io.github.amulet4j.eval.judge;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How to reach an OpenAI-compatible chat-completions judge: the base URL (ending in {@code /v1}), the model, the
 * API key (never shown by {@link #toString()}), the timeout of one request, and the retry policy for 429, 5xx and
 * timeouts. Immutable; validated by {@link Builder#build()}.
 */
public final class JudgeClientSettings {

    private final URI baseUrl;
    private final String model;
    private final String apiKey;
    private final Duration timeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration maxRetryAfter;
    private final Integer maxTokens;

    private JudgeClientSettings(Builder b) {
        this.baseUrl = b.baseUrl;
        this.model = b.model;
        this.apiKey = b.apiKey;
        this.timeout = b.timeout;
        this.maxRetries = b.maxRetries;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxRetryAfter = b.maxRetryAfter;
        this.maxTokens = b.maxTokens;
    }

    public static Builder builder(URI baseUrl, String model) {
        return new Builder(baseUrl, model);
    }

    /** The base URL; requests go to {@code baseUrl + "/chat/completions"}. */
    public URI baseUrl() {
        return baseUrl;
    }

    /** The chat-completions endpoint. */
    public URI endpoint() {
        String s = baseUrl.toString();
        return URI.create((s.endsWith("/") ? s.substring(0, s.length() - 1) : s) + "/chat/completions");
    }

    public String model() {
        return model;
    }

    /** The API key, or {@code null} to send no {@code Authorization} header (local servers). */
    public String apiKey() {
        return apiKey;
    }

    /** The longest one request may take, from sending to the whole reply. */
    public Duration timeout() {
        return timeout;
    }

    /** Retries of a request after a 429, a 5xx, a timeout or a broken connection. */
    public int maxRetries() {
        return maxRetries;
    }

    /** The wait before the first retry when the server gives no {@code Retry-After}; doubled each retry. */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** The longest computed backoff. */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** The longest wait a server's {@code Retry-After} may ask for; longer asks wait this long. */
    public Duration maxRetryAfter() {
        return maxRetryAfter;
    }

    /** {@code max_tokens} of each request, or {@code null} to send none (the server's default). */
    public Integer maxTokens() {
        return maxTokens;
    }

    @Override
    public String toString() {
        return "JudgeClientSettings{url=" + baseUrl + ", model=" + model + ", key=" + (apiKey == null ? "none" : "set")
                + ", timeout=" + timeout + ", maxRetries=" + maxRetries + ", maxTokens=" + maxTokens + "}";
    }

    /** Builder with the defaults: no key, 120 s timeout, 6 retries, 1 s first backoff up to 60 s, Retry-After up to 120 s. */
    public static final class Builder {
        private final URI baseUrl;
        private final String model;
        private String apiKey;
        private Duration timeout = Duration.ofSeconds(120);
        private int maxRetries = 6;
        private Duration initialBackoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofSeconds(60);
        private Duration maxRetryAfter = Duration.ofSeconds(120);
        private Integer maxTokens;

        private Builder(URI baseUrl, String model) {
            this.baseUrl = baseUrl;
            this.model = model;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
            return this;
        }

        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
            return this;
        }

        public Builder maxRetryAfter(Duration maxRetryAfter) {
            this.maxRetryAfter = maxRetryAfter;
            return this;
        }

        public Builder maxTokens(Integer maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid setting */
        public JudgeClientSettings build() {
            Objects.requireNonNull(baseUrl, "baseUrl");
            String scheme = baseUrl.getScheme() == null ? "" : baseUrl.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || baseUrl.getHost() == null) {
                throw new IllegalArgumentException("judge URL must be an http(s) URL such as https://api.openai.com/v1, got "
                        + baseUrl);
            }
            if (baseUrl.getRawUserInfo() != null) {
                throw new IllegalArgumentException("judge URL must not hold credentials; the key is read from the "
                        + "environment variable --judge-key-env names");
            }
            if (baseUrl.getRawQuery() != null || baseUrl.getRawFragment() != null) {
                // a key in a query (?api-key=...) would be written into the judgements file with the URL
                throw new IllegalArgumentException("judge URL must not hold a query or fragment (a key there would be "
                        + "written into the judgements file); the key is read from the environment variable "
                        + "--judge-key-env names, got " + baseUrl.getScheme() + "://" + baseUrl.getRawAuthority()
                        + baseUrl.getRawPath() + "?...");
            }
            if (apiKey != null && scheme.equals("http") && !isLoopback(baseUrl.getHost())) {
                throw new IllegalArgumentException("judge URL is plain http to " + baseUrl.getHost() + ", which is not "
                        + "this machine: the API key would travel unencrypted; use https (keys go over http only to "
                        + "localhost or a loopback address)");
            }
            if (baseUrl.getPath() != null && baseUrl.getPath().replaceAll("/+$", "").endsWith("/chat/completions")) {
                throw new IllegalArgumentException("judge URL must be the base URL (ending in /v1), without "
                        + "/chat/completions, got " + baseUrl);
            }
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("judge model must not be empty");
            }
            requirePositive(timeout, "timeout");
            requirePositive(initialBackoff, "initial backoff");
            requirePositive(maxBackoff, "max backoff");
            requirePositive(maxRetryAfter, "max Retry-After");
            if (maxRetries < 0 || maxRetries > 100) {
                throw new IllegalArgumentException("retries must be in [0, 100], got " + maxRetries);
            }
            if (maxTokens != null && maxTokens < 1) {
                throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
            }
            return new JudgeClientSettings(this);
        }

        /** A loopback host by its name alone (no DNS lookup: nothing is resolved before the check). */
        static boolean isLoopback(String host) {
            String h = host.toLowerCase(Locale.ROOT);
            if (h.startsWith("[") && h.endsWith("]")) {
                h = h.substring(1, h.length() - 1);
            }
            return h.equals("localhost") || h.endsWith(".localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                    || h.matches("127(\\.\\d{1,3}){3}");
        }

        private static void requirePositive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0, got " + d);
            }
        }
    }
}
