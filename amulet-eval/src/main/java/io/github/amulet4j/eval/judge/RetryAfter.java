package io.github.amulet4j.eval.judge;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The wait a server asks for before the next request: {@code retry-after-ms} (milliseconds, sent by OpenAI) if
 * present, else {@code Retry-After} as seconds or as an HTTP date (RFC 9110).
 */
final class RetryAfter {

    private RetryAfter() {
    }

    /** The wait asked for by these headers, at {@code now}; empty when none (or unreadable). */
    static Optional<Duration> of(HttpHeaders headers, Instant now) {
        Optional<String> ms = headers.firstValue("retry-after-ms");
        if (ms.isPresent()) {
            try {
                double v = Double.parseDouble(ms.get().trim());
                if (v >= 0 && Double.isFinite(v)) {
                    return Optional.of(Duration.ofNanos(Math.round(v * 1e6)));
                }
            } catch (NumberFormatException e) {
                // fall through to Retry-After
            }
        }
        return headers.firstValue("retry-after").flatMap(v -> parse(v, now));
    }

    /** {@code Retry-After}'s value: seconds ({@code "7"}, tolerated {@code "1.5"}) or an HTTP date. */
    static Optional<Duration> parse(String value, Instant now) {
        String v = value.trim();
        try {
            double seconds = Double.parseDouble(v);
            if (seconds >= 0 && Double.isFinite(seconds)) {
                return Optional.of(Duration.ofNanos(Math.round(seconds * 1e9)));
            }
            return Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(now, at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }
}
