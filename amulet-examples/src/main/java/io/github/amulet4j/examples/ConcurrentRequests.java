package io.github.amulet4j.examples;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Throughput of any OpenAI-compatible chat server ({@code amulet serve}, llama.cpp's {@code llama-server}, ...) under
 * N concurrent requests: each round sends N greedy chat requests at once (different questions) and takes the wall
 * time from the first send to the last answer; the generated tokens are the servers' own counts ({@code
 * usage.completion_tokens}). Every request asks for all {@code max_tokens} ({@code ignore_eos}, which llama.cpp honours
 * and Amulet ignores: on random weights an end token is rare, and the counts say what was generated). Round 1 warms the
 * server up (JIT, first allocations) and is not counted. Prints per round the tokens, the wall time and the aggregate
 * tokens/s, then the best and mean of the counted rounds; exits with status 1 if a request failed.
 *
 * <pre>
 * ./amulet serve --model Q8.gguf --port 8080 &amp;
 * java -cp "amulet-examples/target/amulet-examples.jar:amulet-examples/target/lib/*" \
 *     io.github.amulet4j.examples.ConcurrentRequests http://127.0.0.1:8080 --requests 8 --max-tokens 128 --method base
 * </pre>
 * Options: {@code --model NAME} (default: the first of {@code /v1/models}), {@code --requests N} (8),
 * {@code --max-tokens K} (128), {@code --rounds R} (3: one warm-up, two counted), {@code --method M} and {@code
 * --preference P} (Amulet's fields; other servers ignore them; none by default), {@code --api-key KEY}.
 */
public final class ConcurrentRequests {

    private static final String[] QUESTIONS = {"How do plants turn sunlight into food?", "Why is the sky blue?",
        "What causes the seasons on Earth?", "How does a refrigerator keep food cold?", "Why do cats purr?",
        "How are rainbows formed?", "What makes bread rise?", "How do vaccines train the immune system?",
        "Why does ice float on water?", "How do airplanes stay in the air?", "What is the ozone layer?",
        "How do tides work?", "Why do leaves change colour in autumn?", "How does a compass find north?",
        "What is inflation in economics?", "How do bees make honey?"};

    private ConcurrentRequests() {
    }

    /** What one round gave: the server's generated tokens, the wall time, failed requests. */
    record Round(int tokens, double seconds, int failed) {
        double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ConcurrentRequests: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: ConcurrentRequests URL [--model NAME] [--requests N] [--max-tokens K] "
                    + "[--rounds R] [--method M] [--preference P] [--api-key KEY]");
            System.exit(2);
        }
        String base = args[0].endsWith("/") ? args[0] : args[0] + "/";
        String model = null;
        String method = null;
        String preference = null;
        String apiKey = null;
        int requests = 8;
        int maxTokens = 128;
        int rounds = 3;
        for (int i = 1; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--model" -> model = value;
                case "--requests" -> requests = positive(args[i], value);
                case "--max-tokens" -> maxTokens = positive(args[i], value);
                case "--rounds" -> rounds = positive(args[i], value);
                case "--method" -> method = value;
                case "--preference" -> preference = value;
                case "--api-key" -> apiKey = value;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        if (model == null) {
            model = firstModel(http, URI.create(base + "v1/models"), apiKey);
        }
        List<Round> counted = new ArrayList<>();
        boolean anyFailed = false;
        for (int r = 0; r < rounds; r++) {
            Round round = round(http, base, apiKey, body(model, requests, maxTokens, method, preference));
            anyFailed |= round.failed() > 0;
            System.out.printf(Locale.ROOT, "round %d%s: %d requests, %d tokens in %.2f s = %.1f tokens/s, %d failed%n",
                    r + 1, r == 0 ? " (warm-up)" : "", requests, round.tokens(), round.seconds(),
                    round.tokensPerSecond(), round.failed());
            if (r > 0) {
                counted.add(round);
            }
        }
        if (!counted.isEmpty()) {
            double best = counted.stream().mapToDouble(Round::tokensPerSecond).max().orElseThrow();
            double mean = counted.stream().mapToDouble(Round::tokensPerSecond).average().orElseThrow();
            System.out.printf(Locale.ROOT, "aggregate tokens/s over %d counted rounds: best %.1f, mean %.1f%n",
                    counted.size(), best, mean);
        }
        System.exit(anyFailed ? 1 : 0);
    }

    private static List<String> body(String model, int requests, int maxTokens, String method, String preference) {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            JsonObject body = new JsonObject();
            body.addProperty("model", model);
            JsonObject message = new JsonObject();
            message.addProperty("role", "user");
            message.addProperty("content", QUESTIONS[i % QUESTIONS.length] + (i >= QUESTIONS.length ? " (" + i + ")" : ""));
            JsonArray messages = new JsonArray();
            messages.add(message);
            body.add("messages", messages);
            body.addProperty("max_tokens", maxTokens);
            body.addProperty("temperature", 0);
            body.addProperty("ignore_eos", true);
            if (method != null) {
                body.addProperty("method", method);
            }
            if (preference != null) {
                body.addProperty("preference", preference);
            }
            bodies.add(body.toString());
        }
        return bodies;
    }

    private static Round round(HttpClient http, String base, String apiKey, List<String> bodies) {
        long t0 = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (String body : bodies) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "v1/chat/completions"))
                    .timeout(Duration.ofMinutes(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            if (apiKey != null) {
                b.header("Authorization", "Bearer " + apiKey);
            }
            futures.add(http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()));
        }
        int tokens = 0;
        int failed = 0;
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            try {
                HttpResponse<String> response = f.join();
                if (response.statusCode() != 200) {
                    System.err.println("HTTP " + response.statusCode() + ": " + response.body());
                    failed++;
                    continue;
                }
                JsonElement usage = JsonParser.parseString(response.body()).getAsJsonObject().get("usage");
                tokens += usage.getAsJsonObject().get("completion_tokens").getAsInt();
            } catch (RuntimeException e) {
                System.err.println("request failed: " + e);
                failed++;
            }
        }
        return new Round(tokens, (System.nanoTime() - t0) / 1e9, failed);
    }

    private static String firstModel(HttpClient http, URI models, String apiKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(models).timeout(Duration.ofSeconds(30)).GET();
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        HttpResponse<String> response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(models + " answered HTTP " + response.statusCode() + ": " + response.body());
        }
        return JsonParser.parseString(response.body()).getAsJsonObject().getAsJsonArray("data").get(0)
                .getAsJsonObject().get("id").getAsString();
    }

    private static int positive(String option, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive whole number, got '" + value + "'");
    }
}
