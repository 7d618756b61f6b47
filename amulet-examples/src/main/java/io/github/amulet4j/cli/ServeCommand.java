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

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code amulet serve}: an OpenAI-compatible server (chat completions with per-request preferences,
 * continuous batching) and a web page to try preferences. The shared options give the model and the
 * defaults of what a request leaves out ({@code --method} for requests with a preference and no method,
 * {@code --max-new-tokens}, the Amulet and sampling settings).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over OpenAI's chat-completions API (POST /v1/chat/completions, GET /v1/models, "
                + "GET /health) with a per-request 'preference', and a web page at / to compare base and amulet.")
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
            description = "Most requests waiting for room in the batch; more are answered 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1 (default: the " + API_KEY_VARIABLE
                    + " environment variable; none if unset).")
    String apiKey;

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
        String key = apiKey != null ? apiKey : cli.environment().get(API_KEY_VARIABLE);
        if (key != null && key.isBlank()) {
            throw new UsageException((apiKey != null ? "--api-key" : API_KEY_VARIABLE) + ": the key is empty");
        }
        AlignmentMethod method = methodFlag.method();
        GenerationConfig defaults = config(method);
        ServerOptions serverOptions;
        try {
            serverOptions = ServerOptions.builder(modelId()).host(host).port(port).apiKey(key).defaults(defaults)
                    .promptStyle(conversationFlags.promptStyle()).build();
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            batcher.close();
            stopped.countDown();
        }, "amulet-serve-shutdown"));
        out().println("Serving '" + serverOptions.modelId() + "' at " + server.uri() + " (OpenAI API under /v1, web page at /"
                + (key == null ? "" : ", API key required") + "); Ctrl-C stops.");
        out().flush();
        stopped.await();
        return AmuletCli.OK;
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
