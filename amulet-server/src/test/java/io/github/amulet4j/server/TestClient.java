package io.github.amulet4j.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** A plain HTTP client of the server for tests (the JDK's), with an optional API key. */
final class TestClient {

    final URI base;
    final String key;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    TestClient(URI base, String key) {
        this.base = base;
        this.key = key;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60)).GET();
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String body) throws IOException, InterruptedException {
        return http.send(request(body), HttpResponse.BodyHandlers.ofString());
    }

    HttpRequest request(String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b.build();
    }

    /** A streamed answer: the status, and the {@code data:} payloads in order (or the error body). */
    record Streamed(int status, List<String> events, String errorBody, java.net.http.HttpHeaders headers) {

        /** The JSON chunks (every event but {@code [DONE]}). */
        List<JsonObject> chunks() {
            List<JsonObject> out = new ArrayList<>();
            for (String e : events) {
                if (!e.equals("[DONE]")) {
                    out.add(JsonParser.parseString(e).getAsJsonObject());
                }
            }
            return out;
        }

        /** The concatenated content deltas. */
        String content() {
            StringBuilder sb = new StringBuilder();
            for (JsonObject c : chunks()) {
                if (c.has("choices")) {
                    for (var choice : c.getAsJsonArray("choices")) {
                        JsonObject delta = choice.getAsJsonObject().getAsJsonObject("delta");
                        if (delta.has("content")) {
                            sb.append(delta.get("content").getAsString());
                        }
                    }
                }
            }
            return sb.toString();
        }
    }

    Streamed stream(String body) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = http.send(request(body), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = r.body()) {
            if (r.statusCode() != 200) {
                return new Streamed(r.statusCode(), List.of(), lines.collect(Collectors.joining("\n")), r.headers());
            }
            List<String> events = new ArrayList<>();
            lines.forEach(line -> {
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                }
            });
            return new Streamed(200, events, null, r.headers());
        }
    }
}
