package io.github.amulet4j.cli.judge;

import io.github.amulet4j.prompt.ChatMessage;

import io.github.amulet4j.eval.judge.JudgeClient;
import io.github.amulet4j.eval.judge.JudgeClientSettings;
import io.github.amulet4j.eval.judge.JudgeException;
import io.github.amulet4j.eval.judge.OpenAiJudgeClient;

import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chat-completions client's retries and waits, with the waits recorded instead of slept. */
class OpenAiJudgeClientTest {

    private final List<Duration> waits = new ArrayList<>();

    private OpenAiJudgeClient client(FakeJudge judge, int retries) {
        return new OpenAiJudgeClient(JudgeClientSettings.builder(URI.create(judge.url()), "m").apiKey("k")
                .maxRetries(retries).build(), waits::add);
    }

    private static final List<ChatMessage> ASK = List.of(ChatMessage.user("Which is better? [[A]] or [[B]]"));

    @Test
    void waitsWhatRetryAfterAsks() throws Exception {
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(30));
        try (FakeJudge judge = new FakeJudge(r -> switch (r.number()) {
            case 1 -> FakeJudge.Response.status(429, Map.of("Retry-After", "7"), "slow down");
            case 2 -> FakeJudge.Response.status(429, Map.of("Retry-After", date), "slow down");
            case 3 -> FakeJudge.Response.status(503, Map.of("Retry-After", "999"), "down");
            case 4 -> FakeJudge.Response.status(502, Map.of("retry-after-ms", "250", "Retry-After", "9"), "gateway");
            default -> FakeJudge.Response.reply("[[A]]");
        })) {
            JudgeClient.Reply reply = client(judge, 6).complete(ASK);
            assertEquals("[[A]]", reply.text());
            assertEquals(5, reply.attempts());
            assertEquals(Duration.ofSeconds(7), waits.get(0));
            assertTrue(waits.get(1).compareTo(Duration.ofSeconds(28)) > 0 && waits.get(1).compareTo(Duration.ofSeconds(31)) < 0,
                    waits.toString());
            assertEquals(Duration.ofSeconds(120), waits.get(2), "capped at the longest Retry-After honoured");
            assertEquals(Duration.ofMillis(250), waits.get(3), "retry-after-ms before Retry-After");
        }
    }

    @Test
    void backsOffExponentiallyWithoutRetryAfterThenGivesUp() throws Exception {
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.status(500, Map.of(), "boom"))) {
            JudgeException e = assertThrows(JudgeException.class, () -> client(judge, 3).complete(ASK));
            assertFalse(e.stopsRun());
            assertTrue(e.getMessage().contains("after 4 attempts: HTTP 500: boom"), e.getMessage());
            assertEquals(4, judge.requests().size());
            assertEquals(3, waits.size());
            for (int i = 0; i < 3; i++) {
                long full = 1000L << i; // 1 s, 2 s, 4 s: half fixed, half random
                long ms = waits.get(i).toMillis();
                assertTrue(ms >= full / 2 && ms <= full, "retry " + (i + 1) + " waited " + ms + " ms");
            }
        }
    }

    @Test
    void clientErrorsAreNotRetried() throws Exception {
        for (int status : new int[] {400, 401, 403, 404, 422}) {
            try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.status(status, Map.of(), "{\"error\": \"no\"}"))) {
                JudgeException e = assertThrows(JudgeException.class, () -> client(judge, 3).complete(ASK));
                assertEquals(1, judge.requests().size());
                assertEquals(status == 401 || status == 403 || status == 404, e.stopsRun(), "HTTP " + status);
                assertTrue(e.getMessage().startsWith("HTTP " + status + " from " + judge.url() + "/chat/completions"),
                        e.getMessage());
            }
        }
        assertTrue(waits.isEmpty());
    }

    @Test
    void aRefusedConnectionStopsTheRun() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        OpenAiJudgeClient c = new OpenAiJudgeClient(JudgeClientSettings.builder(URI.create("http://127.0.0.1:" + port + "/v1"), "m")
                .build(), waits::add);
        JudgeException e = assertThrows(JudgeException.class, () -> c.complete(ASK));
        assertTrue(e.stopsRun());
        assertTrue(e.getMessage().startsWith("cannot connect to http://127.0.0.1:" + port + "/v1/chat/completions"),
                e.getMessage());
    }

    @Test
    void requestCarriesModelTemperatureMaxTokensAndKey() throws Exception {
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.status(200, Map.of(),
                "{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": null}}]}"))) {
            OpenAiJudgeClient c = new OpenAiJudgeClient(JudgeClientSettings.builder(URI.create(judge.url() + "/"), "gpt-x")
                    .apiKey("sk-1").maxTokens(64).build(), waits::add);
            assertEquals("", c.complete(ASK).text(), "a null content is an empty reply");
            FakeJudge.Request q = judge.requests().get(0);
            assertEquals("gpt-x", q.body().get("model").getAsString());
            assertEquals(0, q.body().get("temperature").getAsInt());
            assertEquals(64, q.body().get("max_tokens").getAsInt());
            assertEquals("Bearer sk-1", q.authorization());
            assertEquals(List.of("user"), q.roles());
        }
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.reply("[[B]]"))) {
            OpenAiJudgeClient c = new OpenAiJudgeClient(JudgeClientSettings.builder(URI.create(judge.url()), "m").build());
            assertEquals("[[B]]", c.complete(ASK).text());
            assertEquals(null, judge.requests().get(0).authorization(), "no key, no Authorization header");
        }
    }

    @Test
    void aBodyThatIsNotAChatCompletionIsRetried() throws Exception {
        try (FakeJudge judge = new FakeJudge(r -> r.number() == 1 ? FakeJudge.Response.status(200, Map.of(), "<html>")
                : FakeJudge.Response.reply("[[C]]"))) {
            assertEquals("[[C]]", client(judge, 2).complete(ASK).text());
            assertEquals(1, waits.size());
        }
    }

    @Test
    void settingsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> JudgeClientSettings.builder(URI.create("ftp://x/v1"), "m").build());
        assertThrows(IllegalArgumentException.class,
                () -> JudgeClientSettings.builder(URI.create("http://u:p@x/v1"), "m").build());
        assertThrows(IllegalArgumentException.class, () -> JudgeClientSettings.builder(URI.create("http://x/v1"), " ").build());
        assertThrows(IllegalArgumentException.class,
                () -> JudgeClientSettings.builder(URI.create("http://x/v1"), "m").timeout(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class,
                () -> JudgeClientSettings.builder(URI.create("http://x/v1"), "m").maxRetries(-1).build());
        JudgeClientSettings s = JudgeClientSettings.builder(URI.create("https://x/v1/"), "m").apiKey("sk-secret").build();
        assertEquals(URI.create("https://x/v1/chat/completions"), s.endpoint());
        assertFalse(s.toString().contains("sk-secret"));
    }

    @Test
    void aKeyGoesOverPlainHttpOnlyToThisMachineAndNeverInAUrl() {
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> JudgeClientSettings.builder(URI.create("http://judge.example/v1"), "m").apiKey("sk-1").build());
        assertTrue(plain.getMessage().contains("unencrypted") && plain.getMessage().contains("judge.example"),
                plain.getMessage());
        for (String local : List.of("http://localhost:8000/v1", "http://127.0.0.1:1/v1", "http://[::1]:1/v1",
                "https://judge.example/v1")) {
            JudgeClientSettings.builder(URI.create(local), "m").apiKey("sk-1").build();
        }
        JudgeClientSettings.builder(URI.create("http://judge.example/v1"), "m").build(); // no key: http is fine
        IllegalArgumentException query = assertThrows(IllegalArgumentException.class,
                () -> JudgeClientSettings.builder(URI.create("https://judge.example/v1?api-key=sk-in-url"), "m").build());
        assertFalse(query.getMessage().contains("sk-in-url"), query.getMessage());
    }

    @Test
    void aKeyAtTheCutOfALongErrorBodyIsRedactedBeforeTheCut() throws Exception {
        String key = "sk-0123456789abcdefSECRET";
        // the key starts 8 characters before the 300-character cut
        String body = "x".repeat(300 - 8) + key + " and more";
        try (FakeJudge judge = new FakeJudge(r -> FakeJudge.Response.status(400, Map.of(), body))) {
            OpenAiJudgeClient c = new OpenAiJudgeClient(JudgeClientSettings.builder(URI.create(judge.url()), "m")
                    .apiKey(key).maxRetries(0).build(), waits::add);
            JudgeException e = assertThrows(JudgeException.class, () -> c.complete(ASK));
            assertFalse(e.getMessage().contains(key.substring(0, 8)), e.getMessage());
        }
    }
}
