package io.github.amulet4j.generate;

import io.github.amulet4j.backend.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * The generated ids of one stream of text and what of their text has been streamed: detects stop
 * strings and holds back text that may still change (an incomplete character) or may be the start of
 * a stop string.
 *
 * <p>Detokenization is incremental, in time linear in the answer: each token decodes only a short window of
 * ids, the tokens of the last committed piece (a lookback, so that a decoder's context such as a word's leading
 * space comes out as in the whole text) and the tokens not committed yet. The new text is the window's text
 * beyond the lookback's; it is committed once it does not end in an incomplete character ({@code U+FFFD}, a
 * multi-byte character split across tokens). The text is the concatenation of the committed pieces, so the
 * streamed text always equals the final text.
 */
final class TextTracker {

    /** Uncommitted ids with no text at all that are committed anyway (the window's bound). */
    private static final int MAX_SILENT = 8;

    private final TextTokenizer tokenizer;
    private final List<String> stops;
    private final int longestStop;
    private int[] ids;
    private int count;
    /** Ids {@code [prefixOffset, readOffset)}: the lookback, the last committed piece. */
    private int prefixOffset;
    /** Ids from here on are not committed yet. */
    private int readOffset;
    /** Text of the lookback decoded alone (what a window's text starts with). */
    private String prefixText = "";
    /** Text of every committed id (cut at a stop string once one appeared). */
    private final StringBuilder text;
    /** Characters of {@link #text} given to the listener. */
    private int emitted;
    private boolean stopped;

    TextTracker(TextTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        int longest = 0;
        for (String s : stops) {
            longest = Math.max(longest, s.length());
        }
        this.longestStop = longest;
        this.ids = new int[16];
        this.text = new StringBuilder();
    }

    private TextTracker(TextTracker o) {
        this.tokenizer = o.tokenizer;
        this.stops = o.stops;
        this.longestStop = o.longestStop;
        this.ids = Arrays.copyOf(o.ids, Math.max(16, o.count + 8));
        this.count = o.count;
        this.prefixOffset = o.prefixOffset;
        this.readOffset = o.readOffset;
        this.prefixText = o.prefixText;
        this.text = new StringBuilder(o.text);
        this.emitted = o.emitted;
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

    /** The text of every id so far (cut before a stop string), an incomplete last character included. */
    String text() {
        if (stopped || readOffset == count) {
            return text.toString();
        }
        return text + pending();
    }

    /** Adds a token; returns the text that may be streamed now (everything left when a stop string hit). */
    String append(int token) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[count++] = token;
        if (stopped) {
            return "";
        }
        String piece = pending();
        boolean complete = !piece.isEmpty() && piece.charAt(piece.length() - 1) != '\uFFFD';
        // ids that decode to nothing (special tokens) are committed in groups so that the window stays short
        if (complete || (piece.isEmpty() && count - readOffset >= MAX_SILENT)) {
            commit(piece);
        }
        if (stopped) {
            return flush();
        }
        return take(safeEnd());
    }

    /** Everything of the text not streamed yet (an incomplete last character committed as it decodes). */
    String flush() {
        if (!stopped && readOffset < count) {
            commit(pending());
        }
        return take(text.length());
    }

    /** Text of the ids not committed yet: the window's text beyond the lookback's. */
    private String pending() {
        String window = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, count));
        return window.length() > prefixText.length() ? window.substring(prefixText.length()) : "";
    }

    /** Appends {@code piece}, moves the lookback to the ids just committed, and looks for a stop string. */
    private void commit(String piece) {
        int before = text.length();
        text.append(piece);
        prefixOffset = readOffset;
        readOffset = count;
        prefixText = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset));
        // only a stop string that ends in the new piece can be new
        int from = Math.max(0, before - longestStop + 1);
        int cut = -1;
        for (String s : stops) {
            int at = text.indexOf(s, from);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text.setLength(Math.max(cut, emitted));
            stopped = true;
        }
    }

    private String take(int end) {
        if (end <= emitted) {
            return "";
        }
        String delta = text.substring(emitted, end);
        emitted = end;
        return delta;
    }

    /** The end of the text that cannot be the start of a stop string. */
    private int safeEnd() {
        int end = text.length();
        int safe = end;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, end); len > 0; len--) {
                if (regionEquals(end - len, s, len)) {
                    safe = Math.min(safe, end - len);
                    break;
                }
            }
        }
        return safe;
    }

    private boolean regionEquals(int start, String s, int len) {
        for (int i = 0; i < len; i++) {
            if (text.charAt(start + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
