package io.github.amulet4j.server;

import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.PromptStyle;

import java.util.Objects;

/**
 * Settings of an {@link AmuletServer}: where it listens, the API key, the body size limit, the model id
 * it answers to, and the defaults of what a request leaves out. Immutable; build with {@link #builder()}.
 */
public final class ServerOptions {

    private final String host;
    private final int port;
    private final String apiKey;
    private final int maxBodyBytes;
    private final String modelId;
    private final GenerationConfig defaults;
    private final PromptStyle promptStyle;
    private final long keepAliveMillis;
    private final int maxConnections;
    private final int readTimeoutSeconds;
    private final long writeTimeoutMillis;

    private ServerOptions(Builder b) {
        if (b.host == null || b.host.isBlank()) {
            throw new IllegalArgumentException("host must be non-empty");
        }
        if (b.port < 0 || b.port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535] (0: any free port), got " + b.port);
        }
        if (b.apiKey != null && b.apiKey.isBlank()) {
            throw new IllegalArgumentException("the API key must be non-empty when given");
        }
        if (b.maxBodyBytes < 1024) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 1024, got " + b.maxBodyBytes);
        }
        if (b.modelId == null || b.modelId.isBlank()) {
            throw new IllegalArgumentException("modelId must be non-empty");
        }
        if (b.keepAliveMillis < 1) {
            throw new IllegalArgumentException("keepAliveMillis must be >= 1, got " + b.keepAliveMillis);
        }
        if (b.maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be >= 1, got " + b.maxConnections);
        }
        if (b.readTimeoutSeconds < 1) {
            throw new IllegalArgumentException("readTimeoutSeconds must be >= 1, got " + b.readTimeoutSeconds);
        }
        if (b.writeTimeoutMillis < 1) {
            throw new IllegalArgumentException("writeTimeoutMillis must be >= 1, got " + b.writeTimeoutMillis);
        }
        this.maxConnections = b.maxConnections;
        this.readTimeoutSeconds = b.readTimeoutSeconds;
        this.writeTimeoutMillis = b.writeTimeoutMillis;
        this.host = b.host;
        this.port = b.port;
        this.apiKey = b.apiKey;
        this.maxBodyBytes = b.maxBodyBytes;
        this.modelId = b.modelId;
        this.defaults = Objects.requireNonNull(b.defaults, "defaults");
        this.promptStyle = Objects.requireNonNull(b.promptStyle, "promptStyle");
        this.keepAliveMillis = b.keepAliveMillis;
    }

    public static Builder builder(String modelId) {
        return new Builder(modelId);
    }

    /** Address to bind (default {@code 127.0.0.1}: this machine only). */
    public String host() {
        return host;
    }

    /** Port (default 8080; 0 picks a free one). */
    public int port() {
        return port;
    }

    /** The key clients must send as {@code Authorization: Bearer KEY}, or null for none. */
    public String apiKey() {
        return apiKey;
    }

    /** Largest request body accepted (default 1 MiB); larger ones are a 413. */
    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    /** The model id {@code /v1/models} lists and requests must name. */
    public String modelId() {
        return modelId;
    }

    /** Configuration of what a request leaves out; its method applies to requests with a preference and no method. */
    public GenerationConfig defaults() {
        return defaults;
    }

    public PromptStyle promptStyle() {
        return promptStyle;
    }

    /**
     * Interval of the SSE comment ({@code : keep-alive}) a stream sends while it has no token to send (it
     * waits in the queue), which also notices a client that went away (default 2000 ms).
     */
    public long keepAliveMillis() {
        return keepAliveMillis;
    }

    /**
     * Most open connections, and so most worker threads (default 256): one more is closed as it is accepted.
     * Every connection may hold a thread (the JDK's server reads a request's headers on a worker thread), so
     * slow clients never starve the others of threads; they are bounded by this and by {@link #readTimeoutSeconds()}.
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * Seconds a client has to send a whole request, headers and body, from its first byte (default 10); a
     * connection that sends nothing is closed after as long. A connection over it is closed.
     */
    public int readTimeoutSeconds() {
        return readTimeoutSeconds;
    }

    /**
     * Milliseconds one write to a client may block (default 30000): a client that stops reading for longer
     * has its request cancelled (its batch slot freed for the next queued request) and its connection closed.
     */
    public long writeTimeoutMillis() {
        return writeTimeoutMillis;
    }

    /** Builder of {@link ServerOptions}; validated in {@link #build()}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String apiKey;
        private int maxBodyBytes = 1 << 20;
        private final String modelId;
        private GenerationConfig defaults = GenerationConfig.defaults();
        private PromptStyle promptStyle = PromptStyle.DEFAULT;
        private long keepAliveMillis = 2000;
        private int maxConnections = 256;
        private int readTimeoutSeconds = 10;
        private long writeTimeoutMillis = 30_000;

        private Builder(String modelId) {
            this.modelId = modelId;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        public Builder maxBodyBytes(int maxBodyBytes) {
            this.maxBodyBytes = maxBodyBytes;
            return this;
        }

        public Builder defaults(GenerationConfig defaults) {
            this.defaults = defaults;
            return this;
        }

        public Builder promptStyle(PromptStyle promptStyle) {
            this.promptStyle = promptStyle;
            return this;
        }

        public Builder keepAliveMillis(long keepAliveMillis) {
            this.keepAliveMillis = keepAliveMillis;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder readTimeoutSeconds(int readTimeoutSeconds) {
            this.readTimeoutSeconds = readTimeoutSeconds;
            return this;
        }

        public Builder writeTimeoutMillis(long writeTimeoutMillis) {
            this.writeTimeoutMillis = writeTimeoutMillis;
            return this;
        }

        public ServerOptions build() {
            return new ServerOptions(this);
        }
    }
}
