package io.github.amulet4j.cli;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.server.AmuletServer;
import io.github.amulet4j.server.ServerOptions;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelLocator;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code amulet serve}: an OpenAI-compatible server (chat completions with per-request preferences,
 * continuous batching) and a web page to try preferences. The shared options give the model and the
 * defaults of what a request leaves out ({@code --method} for requests with a preference and no method,
 * {@code --max-new-tokens}, the Amulet and sampling settings).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over OpenAI's chat-completions API (POST /v1/chat/completions, GET /v1/models, "
                + "GET /health) with a per-request 'preference', and a web page at / to compare base and amulet. "
                + "A request's max_tokens is capped by --max-new-tokens. SIGTERM or Ctrl-C stops it gracefully "
                + "(no new requests; running ones get --shutdown-timeout to finish) with exit status 0.")
final class ServeCommand extends GeneratingCommand {

    @Mixin
    MethodFlag methodFlag;

    /** The environment variable read for the API key when {@code --api-key} is absent. */
    static final String API_KEY_VARIABLE = "AMULET_API_KEY";

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for every "
                    + "interface: set an API key).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0 for any free one).")
    int port;

    @Option(names = "--max-batch", paramLabel = "STREAMS", defaultValue = "16",
            description = "Most streams decoded together (an amulet request has two, a plain one one; default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64",
            description = "Most requests waiting for room in the batch; more are answered 429 (default: ${DEFAULT-VALUE}). "
                    + "0: no waiting room (a request runs at once or gets a 429).")
    int maxQueue;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1. Visible to every user in 'ps': prefer the "
                    + API_KEY_VARIABLE + " environment variable or --api-key-file (default: " + API_KEY_VARIABLE
                    + "; none if unset: then only requests naming an IP address or localhost in Host are answered).")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Read the API key from the first line of FILE (instead of --api-key or " + API_KEY_VARIABLE + ").")
    Path apiKeyFile;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "256",
            description = "Most open connections (and worker threads); more are closed at once (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--read-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds a client has to send a whole request (headers and body); a connection that sends "
                    + "nothing is closed after as long (default: ${DEFAULT-VALUE}).")
    int readTimeout;

    @Option(names = "--write-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Seconds one write to a client may block: a client that stops reading for longer has its "
                    + "request cancelled and its connection closed (default: ${DEFAULT-VALUE}).")
    double writeTimeout;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "On SIGTERM or Ctrl-C, seconds the running requests get to finish before they are cancelled "
                    + "(default: ${DEFAULT-VALUE}).")
    double shutdownTimeout;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "The model id clients name (default: the Hub id, or the folder's name for a local model).")
    String servedModelName;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UsageException("--port: must be in [0, 65535], got " + port);
        }
        if (maxBatch < 1) {
            throw new UsageException("--max-batch: must be >= 1, got " + maxBatch);
        }
        if (maxQueue < 0) {
            throw new UsageException("--max-queue: must be >= 0, got " + maxQueue);
        }
        if (maxConnections < 1) {
            throw new UsageException("--max-connections: must be >= 1, got " + maxConnections);
        }
        if (readTimeout < 1) {
            throw new UsageException("--read-timeout: must be >= 1 second, got " + readTimeout);
        }
        if (!(writeTimeout > 0) || writeTimeout > 86_400) {
            throw new UsageException("--write-timeout: must be in (0, 86400] seconds, got " + writeTimeout);
        }
        if (!(shutdownTimeout >= 0) || shutdownTimeout > 86_400) {
            throw new UsageException("--shutdown-timeout: must be in [0, 86400] seconds, got " + shutdownTimeout);
        }
        String key = apiKey(apiKey, apiKeyFile, cli.environment(), err());
        AlignmentMethod method = methodFlag.method();
        GenerationConfig defaults = config(method);
        ServerOptions serverOptions;
        try {
            serverOptions = ServerOptions.builder(modelId()).host(host).port(port).apiKey(key).defaults(defaults)
                    .promptStyle(conversationFlags.promptStyle()).maxConnections(maxConnections)
                    .readTimeoutSeconds(readTimeout).writeTimeoutMillis(Math.max(1, Math.round(writeTimeout * 1000)))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        BatchingOptions batching = BatchingOptions.builder().maxBatchStreams(maxBatch).maxQueue(maxQueue).build();
        AmuletModel model = loadModel();
        AmuletBatcher batcher = model.batcher(batching);
        AmuletServer server;
        try {
            server = AmuletServer.start(batcher, serverOptions);
        } catch (java.io.IOException e) {
            batcher.close();
            model.close();
            throw new java.io.IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        // SIGTERM (systemd, Docker, kill) and SIGINT (Ctrl-C) stop the server gracefully, and the command returns
        // 0; any other way the JVM ends (SIGHUP) still closes it through the hook
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean();
        Runnable closeAll = () -> {
            if (closed.compareAndSet(false, true)) {
                server.shutdown(Duration.ofMillis(Math.round(shutdownTimeout * 1000)));
                batcher.close();
            }
        };
        Thread hook = new Thread(closeAll, "amulet-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        for (String signal : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.countDown());
            } catch (IllegalArgumentException unsupported) {
                // not a signal of this platform (or the JVM runs with -Xrs): the hook closes the server
            }
        }
        out().println("Serving '" + serverOptions.modelId() + "' at " + server.uri() + " (OpenAI API under /v1, web page at /"
                + (key == null ? "" : ", API key required") + "); Ctrl-C stops.");
        out().flush();
        stop.await();
        err().println("amulet serve: stopping (running requests get " + shutdownTimeout + " s to finish)");
        err().flush();
        closeAll.run();
        model.close();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting anyway
        }
        return AmuletCli.OK;
    }

    /**
     * The API key: {@code --api-key} (with a warning: every user of the machine sees it in {@code ps}),
     * {@code --api-key-file} (its first line), or the {@code AMULET_API_KEY} variable; null for none.
     */
    static String apiKey(String argument, Path file, Map<String, String> environment, PrintWriter err) {
        if (argument != null && file != null) {
            throw new UsageException("--api-key and --api-key-file: give one of them");
        }
        if (argument != null) {
            if (argument.isBlank()) {
                throw new UsageException("--api-key: the key is empty");
            }
            err.println("amulet serve: warning: --api-key on the command line is visible to every user of this machine "
                    + "(ps); use " + API_KEY_VARIABLE + " or --api-key-file");
            err.flush();
            return argument;
        }
        if (file != null) {
            String key;
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                key = lines.isEmpty() ? "" : lines.get(0).strip();
            } catch (IOException e) {
                throw new UsageException("--api-key-file: cannot read " + file + ": " + e.getMessage());
            }
            if (key.isEmpty()) {
                throw new UsageException("--api-key-file: the first line of " + file + " is empty");
            }
            return key;
        }
        String key = environment.get(API_KEY_VARIABLE);
        if (key != null && key.isBlank()) {
            throw new UsageException(API_KEY_VARIABLE + ": the key is empty");
        }
        return key;
    }

    private String modelId() {
        if (servedModelName != null) {
            return servedModelName;
        }
        if (ModelLocator.isLocalPath(modelFlags.model)) {
            Path name = ModelLocator.localFolder(modelFlags.model).toAbsolutePath().normalize().getFileName();
            return name == null ? modelFlags.model : name.toString();
        }
        return modelFlags.model;
    }
}
