package io.github.amulet4j.examples;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Drives any OpenAI-compatible chat server ({@code amulet serve}, llama.cpp's {@code llama-server}, ...) as a chat
 * client does: every turn resends the whole conversation, streamed, greedy ({@code temperature} 0), and the time to
 * the first chunk with non-empty content is taken on the client. Prints per turn the time to first token (mean over the
 * conversations), the prompt tokens and the tokens the server reports as cached ({@code
 * usage.prompt_tokens_details.cached_tokens}, or llama.cpp's {@code timings.cache_n}). With {@code --compare URL2}
 * every request also goes to a second server (one after the other) and the answers must be the same text: a server
 * with the prompt cache against one without. Several conversations run at once with {@code --conversations N}; a
 * failed request is counted and reported, and the program exits with status 1 if any failed or any answer differed.
 *
 * <pre>
 * ./amulet serve --model /tmp/q05 --weights bf16 --port 8080 &amp;
 * java -cp "amulet-examples/target/amulet-examples.jar:amulet-examples/target/lib/*" \
 *     io.github.amulet4j.examples.ServerConversations http://127.0.0.1:8080 --turns 8 --words 110
 * </pre>
 * Options: {@code --model NAME} (the model id to send; default: the first of {@code /v1/models}),
 * {@code --turns T} (8), {@code --words W} (110 words a user turn), {@code --answer-tokens K} (16),
 * {@code --conversations N} (1), {@code --first-conversation K} (0: conversation i uses the text of seed i + K, so
 * that a warm-up run with another K shares no prefix with the measured one), {@code --preference P}
 * ({@code concise}; sent as the Amulet field {@code preference}, which other servers ignore), {@code --compare URL2},
 * {@code --api-key KEY}.
 */
public final class ServerConversations {

    private static final String SYSTEM = "You are a helpful assistant.";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String apiKey;
    private final int answerTokens;
    private final String preference;

    private ServerConversations(String apiKey, int answerTokens, String preference) {
        this.apiKey = apiKey;
        this.answerTokens = answerTokens;
        this.preference = preference;
    }

    /** One streamed answer as the client saw it. */
    record Answer(String text, double ttftMillis, int promptTokens, int cachedTokens) {
    }

    /** What a conversation's turn gave on the first server and (with a second one) whether the second agreed. */
    record Turn(Answer answer, Answer other) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: ServerConversations URL [--model NAME] [--turns T] [--words W] "
                    + "[--answer-tokens K] [--conversations N] [--first-conversation K] [--preference P] [--compare URL2] "
                    + "[--api-key KEY]");
            System.exit(2);
        }
        URI url = URI.create(args[0].endsWith("/") ? args[0] : args[0] + "/");
        String model = null;
        int turns = 8;
        int words = 110;
        int answerTokens = 16;
        int conversations = 1;
        int firstConversation = 0;
        String preference = "concise";
        URI compare = null;
        String apiKey = null;
        for (int i = 1; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--model" -> model = v;
                case "--turns" -> turns = positive(args[i], v);
                case "--words" -> words = positive(args[i], v);
                case "--answer-tokens" -> answerTokens = positive(args[i], v);
                case "--conversations" -> conversations = positive(args[i], v);
                case "--first-conversation" -> firstConversation = Integer.parseInt(v);
                case "--preference" -> preference = v;
                case "--compare" -> compare = URI.create(v.endsWith("/") ? v : v + "/");
                case "--api-key" -> apiKey = v;
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; valid: --model, "
                        + "--turns, --words, --answer-tokens, --conversations, --first-conversation, --preference, --compare, "
                        + "--api-key");
            }
        }
        ServerConversations client = new ServerConversations(apiKey, answerTokens, preference);
        String name = model != null ? model : client.firstModel(url);
        int n = conversations;
        int offset = firstConversation;
        int t = turns;
        int w = words;
        URI other = compare;
        AtomicInteger failures = new AtomicInteger();
        List<List<Turn>> results = new ArrayList<>();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<List<Turn>>> runs = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                int conversation = offset + c;
                runs.add(pool.submit(() -> client.converse(url, other, name, conversation, t, w, failures)));
            }
            for (Future<List<Turn>> f : runs) {
                results.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println(other == null ? "turn | prompt tokens | cached | TTFT ms"
                : "turn | prompt tokens | cached | TTFT ms | other: cached | other: TTFT ms | same answers");
        int differing = 0;
        double first = 0;
        for (int turn = 0; turn < t; turn++) {
            double ttft = 0;
            double otherTtft = 0;
            long prompt = 0;
            long cached = 0;
            long otherCached = 0;
            int answered = 0;
            int same = 0;
            for (List<Turn> conversation : results) {
                if (turn >= conversation.size()) {
                    continue;
                }
                Turn r = conversation.get(turn);
                answered++;
                ttft += r.answer().ttftMillis();
                prompt += r.answer().promptTokens();
                cached += r.answer().cachedTokens();
                if (r.other() != null) {
                    otherTtft += r.other().ttftMillis();
                    otherCached += r.other().cachedTokens();
                    same += r.other().text().equals(r.answer().text()) ? 1 : 0;
                }
            }
            if (answered == 0) {
                continue;
            }
            if (turn == 0) {
                first = ttft / answered;
            }
            if (other == null) {
                System.out.printf(Locale.ROOT, "%d | %d | %d | %.0f%n", turn + 1, prompt / answered, cached / answered,
                        ttft / answered);
            } else {
                differing += answered - same;
                System.out.printf(Locale.ROOT, "%d | %d | %d | %.0f | %d | %.0f | %d of %d%n", turn + 1,
                        prompt / answered, cached / answered, ttft / answered, otherCached / answered,
                        otherTtft / answered, same, answered);
            }
            if (turn == t - 1 && first > 0) {
                System.out.printf(Locale.ROOT, "turn %d / turn 1 time to first token: %.2f%n", t, ttft / answered / first);
            }
        }
        System.out.printf(Locale.ROOT, "%d conversation(s) of %d turns in %.1f s; failed requests: %d%s%n", n, t,
                seconds, failures.get(), other == null ? "" : "; answers that differed: " + differing);
        System.exit(failures.get() > 0 || differing > 0 ? 1 : 0);
    }

    private static int positive(String option, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be >= 1, got " + v);
        }
        return n;
    }

    /** One conversation: {@code turns} requests, each the history so far (answers of the first server) and a new turn. */
    private List<Turn> converse(URI url, URI other, String model, int conversation, int turns, int words,
                                AtomicInteger failures) {
        SplittableRandom random = new SplittableRandom(1000L + conversation);
        JsonArray messages = new JsonArray();
        messages.add(message("system", SYSTEM));
        List<Turn> out = new ArrayList<>();
        for (int turn = 0; turn < turns; turn++) {
            messages.add(message("user", ConversationTurns.text(random, words)));
            try {
                Answer a = ask(url, model, messages);
                Answer b = other == null ? null : ask(other, model, messages);
                out.add(new Turn(a, b));
                messages.add(message("assistant", a.text()));
            } catch (IOException | RuntimeException e) {
                failures.incrementAndGet();
                System.err.println("conversation " + conversation + ", turn " + (turn + 1) + " failed: " + e.getMessage());
                return out;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
        return out;
    }

    /** One streamed, greedy request; the time to first token is until the first chunk with content. */
    Answer ask(URI url, String model, JsonArray messages) throws IOException, InterruptedException {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        body.add("messages", messages);
        body.addProperty("max_tokens", answerTokens);
        body.addProperty("temperature", 0);
        body.addProperty("stream", true);
        JsonObject options = new JsonObject();
        options.addProperty("include_usage", true);
        body.add("stream_options", options);
        body.addProperty("preference", preference);
        // llama.cpp's server: keep the prompt cache (its default) and generate every token asked for
        body.addProperty("cache_prompt", true);
        body.addProperty("ignore_eos", true);
        long start = System.nanoTime();
        HttpResponse<Stream<String>> r = http.send(request(url.resolve("v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(), HttpResponse.BodyHandlers.ofLines());
        StringBuilder text = new StringBuilder();
        double ttft = -1;
        int prompt = 0;
        int cached = 0;
        try (Stream<String> lines = r.body()) {
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode() + " from " + url + ": " + String.join("\n",
                        lines.toList()));
            }
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                JsonObject chunk = JsonParser.parseString(line.substring(6)).getAsJsonObject();
                JsonArray choices = chunk.has("choices") && chunk.get("choices").isJsonArray()
                        ? chunk.getAsJsonArray("choices") : new JsonArray();
                for (JsonElement c : choices) {
                    JsonObject delta = c.getAsJsonObject().getAsJsonObject("delta");
                    // the first chunk carries the role and (OpenAI, amulet serve) an empty content: not a token
                    if (delta != null && delta.has("content") && !delta.get("content").isJsonNull()
                            && !delta.get("content").getAsString().isEmpty()) {
                        if (ttft < 0) {
                            ttft = (System.nanoTime() - start) / 1e6;
                        }
                        text.append(delta.get("content").getAsString());
                    }
                }
                if (chunk.has("usage") && chunk.get("usage").isJsonObject()) {
                    JsonObject usage = chunk.getAsJsonObject("usage");
                    prompt = usage.get("prompt_tokens").getAsInt();
                    if (usage.has("prompt_tokens_details") && usage.get("prompt_tokens_details").isJsonObject()) {
                        JsonElement c = usage.getAsJsonObject("prompt_tokens_details").get("cached_tokens");
                        cached = c == null || c.isJsonNull() ? cached : c.getAsInt();
                    }
                }
                if (chunk.has("timings") && chunk.get("timings").isJsonObject()) {
                    JsonElement c = chunk.getAsJsonObject("timings").get("cache_n");
                    cached = c == null || c.isJsonNull() ? cached : c.getAsInt();
                }
            }
        }
        return new Answer(text.toString(), ttft < 0 ? (System.nanoTime() - start) / 1e6 : ttft, prompt, cached);
    }

    private String firstModel(URI url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(url.resolve("v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url.resolve("v1/models") + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("data").get(0).getAsJsonObject()
                .get("id").getAsString();
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    private static JsonObject message(String role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role);
        m.addProperty("content", content);
        return m;
    }
}
