package io.github.amulet4j.examples;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.server.AmuletServer;
import io.github.amulet4j.server.ServerOptions;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.BatchingOptions;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Measures what continuous batching buys a server: N {@code amulet} requests (greedy, different questions
 * and preferences) through {@code amulet serve}'s HTTP API, first one after another, then all at once; prints
 * both wall times and their ratio. The answers are the same both ways (greedy), so both runs decode the same
 * tokens.
 *
 * <pre>
 * ./amulet random-model --shape qwen2.5-0.5b --out /tmp/qwen
 * java -Xmx8g --add-modules jdk.incubator.vector -cp "amulet-examples/target/amulet-examples.jar:amulet-examples/target/lib/*" \
 *     io.github.amulet4j.examples.ServeThroughput /tmp/qwen 8 64
 * </pre>
 */
public final class ServeThroughput {

    private ServeThroughput() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ServeThroughput MODEL_DIR [REQUESTS=8] [MAX_TOKENS=64] [LINEAR_KERNEL=auto]");
            System.exit(2);
        }
        Path folder = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        RuntimeOptions.LinearKernel kernel = RuntimeOptions.LinearKernel.parse(args.length > 3 ? args[3] : "auto");
        String[] preferences = {"concise", "formal", "creative", "uplifting", "verbose", "pleasant", "complex",
            "Answer like a pirate."};
        try (AmuletModel model = AmuletModel.load(ModelOptions.builder().model(folder)
                .runtime(r -> r.linearKernel(kernel)).build());
             AmuletBatcher batcher = model.batcher(BatchingOptions.builder().maxBatchStreams(2 * n).build());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder("m").port(0).build())) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<HttpRequest> requests = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                JsonObject body = new JsonObject();
                body.addProperty("model", "m");
                body.add("messages", JsonParser.parseString("[{\"role\": \"user\", \"content\": \"Question " + i
                        + ": how do plants turn sunlight into food?\"}]"));
                body.addProperty("max_tokens", maxTokens);
                body.addProperty("temperature", 0);
                body.addProperty("method", "amulet");
                body.addProperty("preference", preferences[i % preferences.length]);
                requests.add(HttpRequest.newBuilder(URI.create(server.uri() + "/v1/chat/completions"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
            }
            // warm-up: one request (JIT, first allocations)
            http.send(requests.get(0), HttpResponse.BodyHandlers.ofString());

            long t0 = System.nanoTime();
            List<String> sequential = new ArrayList<>();
            int tokens = 0;
            for (HttpRequest r : requests) {
                String answer = http.send(r, HttpResponse.BodyHandlers.ofString()).body();
                sequential.add(text(answer));
                tokens += completionTokens(answer);
            }
            long sequentialNanos = System.nanoTime() - t0;

            long stepsBefore = batcher.steps();
            long t1 = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
            for (HttpRequest r : requests) {
                futures.add(http.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
            }
            List<String> concurrent = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> f : futures) {
                concurrent.add(text(f.join().body()));
            }
            long concurrentNanos = System.nanoTime() - t1;
            long concurrentSteps = batcher.steps() - stepsBefore;

            System.out.printf("model %s, linear kernel %s, %d amulet requests, %d generated tokens in all"
                    + " (max_tokens %d)%n", folder, kernel, n, tokens, maxTokens);
            System.out.printf("one after another: %.2f s (%.1f tokens/s)%n", sequentialNanos / 1e9,
                    tokens / (sequentialNanos / 1e9));
            System.out.printf("all at once:       %.2f s (%.1f tokens/s, %d batched steps)%n", concurrentNanos / 1e9,
                    tokens / (concurrentNanos / 1e9), concurrentSteps);
            System.out.printf("ratio concurrent / sequential: %.3f%n", (double) concurrentNanos / sequentialNanos);
            System.out.println("same answers both ways: " + sequential.equals(concurrent));
        }
    }

    private static String text(String completion) {
        return JsonParser.parseString(completion).getAsJsonObject().getAsJsonArray("choices").get(0).getAsJsonObject()
                .getAsJsonObject("message").get("content").getAsString();
    }

    private static int completionTokens(String completion) {
        return JsonParser.parseString(completion).getAsJsonObject().getAsJsonObject("usage")
                .get("completion_tokens").getAsInt();
    }
}
