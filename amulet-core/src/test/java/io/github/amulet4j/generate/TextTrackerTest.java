package io.github.amulet4j.generate;

import io.github.amulet4j.backend.TextTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Incremental detokenization: streamed text equals the final text and the whole decode, in linear time. */
class TextTrackerTest {

    /**
     * A byte-level tokenizer as GPT-2's or Qwen's: ids 1..256 are single bytes (id - 1), id 0 is special (no text);
     * an incomplete UTF-8 sequence decodes to U+FFFD. Counts the ids it decodes.
     */
    static final class ByteTokenizer implements TextTokenizer {
        long decodedIds;

        static int[] encodeBytes(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                ids[i] = (b[i] & 0xff) + 1;
            }
            return ids;
        }

        @Override
        public int[] encode(String text) {
            return encodeBytes(text);
        }

        @Override
        public String decode(int[] ids) {
            decodedIds += ids.length;
            byte[] b = new byte[ids.length];
            int n = 0;
            for (int id : ids) {
                if (id != 0) {
                    b[n++] = (byte) (id - 1);
                }
            }
            return new String(b, 0, n, StandardCharsets.UTF_8);
        }

        @Override
        public int vocabularySize() {
            return 257;
        }
    }

    private static String stream(TextTracker t, int[] ids, StringBuilder streamed) {
        for (int id : ids) {
            String delta = t.append(id);
            assertTrue(delta.indexOf('\uFFFD') < 0, "a split character was streamed before it was complete: " + delta);
            streamed.append(delta);
            if (t.stopped()) {
                break;
            }
        }
        streamed.append(t.flush());
        return streamed.toString();
    }

    @Test
    void multiByteCharactersSplitAcrossTokensStreamWhole() {
        String s = "Grüße, 世界! 🎉 naïve café — ok 𝄞";
        ByteTokenizer tok = new ByteTokenizer();
        int[] ids = ByteTokenizer.encodeBytes(s);
        TextTracker t = new TextTracker(tok, List.of());
        List<String> deltas = new ArrayList<>();
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
            String d = t.append(id);
            deltas.add(d);
            streamed.append(d);
        }
        streamed.append(t.flush());
        assertEquals(s, streamed.toString());
        assertEquals(s, t.text());
        assertEquals(tok.decode(ids), t.text());
        // the four bytes of the emoji come out as one piece, on its last byte
        assertTrue(deltas.contains("🎉"), deltas.toString());
    }

    @Test
    void streamedTextEqualsFinalTextWithSpecialTokensStopsAndATruncatedCharacter() {
        ByteTokenizer tok = new ByteTokenizer();
        // a special token between the bytes of a character, runs of special tokens, and a final incomplete character
        List<Integer> list = new ArrayList<>();
        for (int id : ByteTokenizer.encodeBytes("aé")) {
            list.add(id);
        }
        list.add(2, 0);
        for (int i = 0; i < 20; i++) {
            list.add(0);
        }
        for (int id : ByteTokenizer.encodeBytes("b世")) {
            list.add(id);
        }
        list.remove(list.size() - 1);
        int[] ids = list.stream().mapToInt(Integer::intValue).toArray();
        TextTracker t = new TextTracker(tok, List.of());
        String streamed = stream(t, ids, new StringBuilder());
        assertEquals(tok.decode(ids), streamed, "the whole decode, U+FFFD of the cut character included");
        assertEquals(streamed, t.text());

        // stop strings made of multi-byte characters, found across pieces
        String s = "Erklärung: 世界です。END of text";
        TextTracker stop = new TextTracker(tok, List.of("です。E", "zzz"));
        String out = stream(stop, ByteTokenizer.encodeBytes(s), new StringBuilder());
        assertTrue(stop.stopped());
        assertEquals("Erklärung: 世界", out);
        assertEquals(out, stop.text());
    }

    @Test
    void decodingCostIsLinearInTheAnswer() {
        ByteTokenizer tok = new ByteTokenizer();
        SplittableRandom r = new SplittableRandom(3);
        StringBuilder sb = new StringBuilder();
        String[] words = {"alpha ", "βeta ", "日本 ", "🎉 ", "x"};
        while (sb.length() < 6000) {
            sb.append(words[r.nextInt(words.length)]);
        }
        String s = sb.toString();
        int[] ids = ByteTokenizer.encodeBytes(s);
        TextTracker t = new TextTracker(tok, List.of("never-there"));
        String streamed = stream(t, ids, new StringBuilder());
        assertEquals(s, streamed);
        // each token decodes a window of a few ids (twice), never the whole answer again
        assertTrue(tok.decodedIds < 20L * ids.length, tok.decodedIds + " ids decoded for " + ids.length + " tokens");
    }
}
