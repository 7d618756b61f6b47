package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {

    @TempDir
    Path dir;

    private static final String[] TEXTS = {
        "hello world", "The quick brown fox jumps over the lazy dog.", "  leading and trailing  ",
        "tabs\tand\nnewlines\r\n", "unicode: caf\u00e9 \u00fcber \u65e5\u672c\u8a9e \ud83d\ude00", "", "x",
        "numbers 12345 and symbols !@#$%^&*()"};

    @Test
    void roundTripsAnyTextAndCountsIds() throws IOException {
        TinyTokenizerWriter w = TinyTokenizerWriter.builder().vocabSize(1000).build();
        w.writeTo(dir);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertEquals(1000, t.vocabularySize());
            for (String s : TEXTS) {
                int[] ids = t.encode(s);
                for (int id : ids) {
                    assertTrue(id >= 0 && id < 1000);
                    assertFalse(t.isSpecial(id), "no special token expected in " + s);
                }
                assertEquals(s, t.decode(ids), "round trip of '" + s + "'");
            }
            // merges make words shorter than their bytes: " the" is one token (Ġt + h, then e is separate)
            int[] the = t.encode(" th");
            assertEquals(1, the.length);
            assertEquals("\u0120th", t.idToToken(the[0]));
            // the byte-level symbols: id of byte b is b
            assertArrayEquals(new int[] {'!'}, t.encode("!"));
            // "\u00e9" is the UTF-8 bytes C3 A9, i.e. the byte-level symbols "\u00c3\u00a9" (ids 0xC3, 0xA9)
            assertArrayEquals(new int[] {0xC3, 0xA9}, t.encode("\u00e9"));
            assertEquals("\u00c3", t.idToToken(0xC3));
            // an emoji is its four UTF-8 bytes F0 9F 98 80
            assertArrayEquals(new int[] {0xF0, 0x9F, 0x98, 0x80}, t.encode("\ud83d\ude00"));
        }
    }

    @Test
    void specialTokensAreRecognisedAndSkippedOnDecode() throws IOException {
        TinyTokenizerWriter w = TinyTokenizerWriter.builder().vocabSize(600).build();
        w.writeTo(dir);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            int start = w.specialTokenId("<|im_start|>");
            int end = w.specialTokenId("<|im_end|>");
            assertEquals(start, t.tokenToId("<|im_start|>"));
            assertEquals("<|im_end|>", t.idToToken(end));
            int[] ids = t.encode("<|im_start|>user\nhi<|im_end|>");
            assertEquals(start, ids[0]);
            assertEquals(end, ids[ids.length - 1]);
            assertEquals("user\nhi", t.decode(ids));
            assertEquals("<|im_start|>user\nhi<|im_end|>", t.decode(ids, false));
            assertEquals(end, t.eosTokenId());
            assertEquals(-1, t.tokenToId("not-a-token"));
            assertNull(t.idToToken(600));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {600}));
        }
    }

    @Test
    void largeVocabularyLoads() throws IOException {
        TinyTokenizerWriter w = TinyTokenizerWriter.builder().vocabSize(151936).build();
        w.writeTo(dir);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertEquals(151936, t.vocabularySize());
            assertEquals(151936 - 5, t.tokenToId("<|endoftext|>"));
            assertEquals("hello there", t.decode(t.encode("hello there")));
        }
    }


    /**
     * Generated ids come back as themselves when their text is encoded again (a chat client resending an answer)
     * where the vocabulary past the letter merges is whole characters; filler names split into many tokens.
     */
    @Test
    void generatedIdsRoundTripThroughTheirText() throws IOException {
        int[] picks = {1700, 2500, 9000, 30000, 61000, 64000, 90000, 120000, 151000, 151659};
        for (boolean roundTrip : new boolean[] {true, false}) {
            Path folder = dir.resolve("rt-" + roundTrip);
            TinyTokenizerWriter.builder().vocabSize(151665).fillersRoundTrip(roundTrip).build().writeTo(folder);
            try (HfTokenizer t = HfTokenizer.load(folder)) {
                assertEquals(151665, t.vocabularySize());
                // ids that decode to whole characters (the others are leading bytes of one)
                List<Integer> whole = new ArrayList<>();
                for (int id : picks) {
                    String text = t.decode(new int[] {id});
                    if (!text.contains("\ufffd")) {
                        whole.add(id);
                    }
                }
                int[] generated = whole.stream().mapToInt(Integer::intValue).toArray();
                String text = t.decode(generated);
                int[] again = t.encode("so: " + text + " ok");
                if (roundTrip) {
                    assertTrue(generated.length >= 8, "most picks are whole characters: " + whole);
                    assertArrayEquals(concat(t.encode("so: "), generated, t.encode(" ok")), again,
                            "ids of '" + text + "'");
                    assertEquals(4, t.encode("\u5929\u6c14\u5f88\u597d").length, "a character a token");
                } else {
                    assertTrue(again.length > 5 * generated.length, "the fillers' names split: " + again.length);
                }
                // ASCII text tokenizes as without the option
                assertEquals(" the", t.decode(t.encode(" the")));
                assertEquals(1, t.encode(" th").length);
            }
        }
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }
    @Test
    void bosAddedOnceWhenConfigSaysSo() throws IOException {
        TinyTokenizerWriter w = TinyTokenizerWriter.builder().bosToken("<s>").eosToken("</s>").addBosToken(true)
                .chatTemplate("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}").build();
        w.writeTo(dir);
        int bos = w.specialTokenId("<s>");
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertTrue(t.addsBos());
            int[] plain = t.encode("hi");
            assertEquals(bos, t.encodePrompt("hi", false)[0]);
            assertEquals(plain.length + 1, t.encodePrompt("hi", false).length);
            // template said it emits BOS: nothing added even though the text lacks it
            assertArrayEquals(plain, t.encodePrompt("hi", true));
            // text already starts with BOS: not doubled
            int[] rendered = t.encodePrompt("<s>hi", false);
            assertEquals(bos, rendered[0]);
            assertTrue(rendered.length < 2 || rendered[1] != bos);
            assertEquals(plain.length + 1, rendered.length);
        }
    }

    @Test
    void bosFromPostProcessorWhenConfigIsSilent() throws IOException {
        TinyTokenizerWriter.builder().bosToken("<s>").postProcessorAddsBos(true).build().writeTo(dir);
        // drop add_bos_token from the config to leave the decision to the post-processor
        Path cfg = dir.resolve("tokenizer_config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"add_bos_token\": false,", ""));
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertNull(t.config().addBosToken());
            assertTrue(t.addsBos());
            assertEquals(t.bosTokenId(), t.encodePrompt("hi", false)[0]);
            // encode() never lets DJL's post-processor add anything
            assertEquals("hi", t.decode(t.encode("hi"), false));
        }
    }

    @Test
    void noBosWhenNotConfigured() throws IOException {
        TinyTokenizerWriter.builder().build().writeTo(dir);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertFalse(t.addsBos());
            assertArrayEquals(t.encode("abc"), t.encodePrompt("abc", false));
        }
    }

    @Test
    void errorsNameTheFile() throws IOException {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> HfTokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains(dir.toString()), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        e = assertThrows(TokenizerFormatException.class, () -> HfTokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        TinyTokenizerWriter.builder().build().writeTo(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<nope>\"}");
        e = assertThrows(TokenizerFormatException.class, () -> HfTokenizer.load(dir));
        assertTrue(e.getMessage().contains("<nope>"), e.getMessage());
    }

    @Test
    void writerValidatesSettings() {
        assertThrows(IllegalArgumentException.class, () -> TinyTokenizerWriter.builder().vocabSize(100).build());
        assertThrows(IllegalArgumentException.class, () -> TinyTokenizerWriter.builder().bosToken("<x>").build());
        assertThrows(IllegalArgumentException.class, () -> TinyTokenizerWriter.builder().addBosToken(true).build());
    }

    @Test
    void byteSymbolsAreTheGpt2Alphabet() {
        char[] s = TinyTokenizerWriter.byteSymbols();
        List<Character> seen = new ArrayList<>();
        for (char c : s) {
            assertFalse(seen.contains(c));
            seen.add(c);
        }
        assertEquals('\u0120', s[' ']);
        assertEquals('\u010a', s['\n']);
        assertEquals('A', s['A']);
        // GPT-2's bytes_to_unicode, by hand: the 188 printable bytes map to themselves; the others, in byte
        // order, to U+0100 onwards: 0x00-0x20 -> U+0100-U+0120, 0x7F-0xA0 -> U+0121-U+0142, 0xAD -> U+0143
        assertEquals('\u0100', s[0x00]);
        assertEquals('\u0121', s[0x7F]);
        assertEquals('\u0142', s[0xA0]);
        assertEquals('\u0143', s[0xAD]);
        assertEquals('\u00c3', s[0xC3]);
        assertEquals('\u00a9', s[0xA9]);
        assertEquals('\u00ff', s[0xFF]);
        for (char c : s) {
            assertTrue(c <= '\u0143', "symbol " + (int) c + " past U+0143");
        }
    }
}
