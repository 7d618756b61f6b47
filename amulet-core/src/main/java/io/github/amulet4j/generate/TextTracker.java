package io.github.amulet4j.generate;

import io.github.amulet4j.backend.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * The generated ids of one stream of text and what of their text has been streamed: detects stop
 * strings and holds back text that may still change (an incomplete character) or may be the start of
 * a stop string.
 */
final class TextTracker {

    private final TextTokenizer tokenizer;
    private final List<String> stops;
    private int[] ids;
    private int count;
    private String text = "";
    private final StringBuilder emitted;
    private boolean stopped;

    TextTracker(TextTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        this.ids = new int[16];
        this.emitted = new StringBuilder();
    }

    private TextTracker(TextTracker o) {
        this.tokenizer = o.tokenizer;
        this.stops = o.stops;
        this.ids = Arrays.copyOf(o.ids, Math.max(16, o.count + 8));
        this.count = o.count;
        this.text = o.text;
        this.emitted = new StringBuilder(o.emitted);
        this.stopped = o.stopped;
    }

    /** An empty tracker with the same tokenizer and stop strings. */
    TextTracker fresh() {
        return new TextTracker(tokenizer, stops);
    }

    TextTracker copy() {
        return new TextTracker(this);
    }

    int count() {
        return count;
    }

    int[] ids() {
        return Arrays.copyOf(ids, count);
    }

    boolean stopped() {
        return stopped;
    }

    String text() {
        return text;
    }

    /** Adds a token; returns the text that may be streamed now (everything left when a stop string hit). */
    String append(int token) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[count++] = token;
        String full = tokenizer.decode(Arrays.copyOf(ids, count));
        int cut = -1;
        for (String s : stops) {
            int at = full.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text = full.substring(0, cut);
            stopped = true;
            return flush();
        }
        text = full;
        return take(safeEnd(full));
    }

    /** Everything of the text not streamed yet. */
    String flush() {
        return take(text.length());
    }

    private String take(int end) {
        int done = emitted.length();
        if (end <= done || !text.regionMatches(0, emitted.toString(), 0, done)) {
            return "";
        }
        String delta = text.substring(done, end);
        emitted.append(delta);
        return delta;
    }

    private int safeEnd(String full) {
        int end = full.length();
        while (end > 0 && full.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        int safe = end;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, end); len > 0; len--) {
                if (full.regionMatches(end - len, s, 0, len)) {
                    safe = Math.min(safe, end - len);
                    break;
                }
            }
        }
        return safe;
    }
}
