package io.github.amulet4j.djl;

import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.github.amulet4j.djl.GemmaPromptFolder.BOS;
import static io.github.amulet4j.djl.GemmaPromptFolder.BYTE0;
import static io.github.amulet4j.djl.GemmaPromptFolder.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gemma's prompt side: a tokenizer.json of Gemma's shape (SentencePiece-style BPE over the whole text, {@code ▁} for
 * spaces with no dummy prefix, byte fallback) gives the ids worked out by hand from its merges, and the real chat
 * templates of gemma-2-2b-it (which raises on a system role: the system text goes in front of the first user message,
 * ALGORITHM.md section 1) and gemma-3-1b-it (which folds a system message into the first user turn itself) give two
 * streams that differ by the preference only, the same text for both templates.
 */
class GemmaPromptsTest {

    static final String Q = "What is the ozone layer?";

    @TempDir
    Path dir;

    @Test
    void aGemmaShapedTokenizerGivesTheIdsOfItsMerges() throws IOException {
        try (HfTokenizer t = HfTokenizer.load(GemmaPromptFolder.write(dir.resolve("g"), true))) {
            assertEquals(GemmaPromptFolder.vocabulary().size(), t.vocabularySize());
            // "Hello▁world": H e -> He, l l -> ll, He ll -> Hell, Hell o -> Hello; ▁ w -> ▁w, o r -> or, ▁w or ...
            assertArrayEquals(new int[] {id("Hello"), id("▁world")}, t.encode("Hello world"));
            // no dummy prefix: a leading space is a ▁ of its own, and "Hello" alone is one token
            assertArrayEquals(new int[] {id("▁"), id("Hello")}, t.encode(" Hello"));
            assertArrayEquals(new int[] {id("Hello")}, t.encode("Hello"));
            // byte fallback: 'i' (0x69) and 'é' (0xC3 0xA9) are not in the vocabulary
            int[] bytes = {id("H"), BYTE0 + 0x69, id("▁"), BYTE0 + 0xC3, BYTE0 + 0xA9};
            assertArrayEquals(bytes, t.encode("Hi é"));
            assertEquals("Hi é", t.decode(bytes, false));
            assertEquals("Hello world", t.decode(new int[] {id("Hello"), id("▁world")}, false));
            // the turn markers are special tokens inside the text
            assertArrayEquals(new int[] {id("<start_of_turn>"), id("Hello"), id("<end_of_turn>")},
                    t.encode("<start_of_turn>Hello<end_of_turn>"));
            // add_bos_token: one BOS in front, never a second one after the template's
            assertArrayEquals(new int[] {BOS, id("Hello")}, t.encodePrompt("Hello", false));
            assertArrayEquals(new int[] {BOS, id("Hello")}, t.encodePrompt("<bos>Hello", true));
        }
    }

    @ParameterizedTest(name = "gemma3 {0}")
    @ValueSource(booleans = {false, true})
    void theTwoStreamsDifferByThePreferenceOnly(boolean gemma3) throws IOException {
        String turn = "<bos><start_of_turn>user\n";
        String end = "<end_of_turn>\n<start_of_turn>model\n";
        try (PromptRenderer r = PromptRenderer.load(GemmaPromptFolder.write(dir.resolve("g" + gemma3), gemma3))) {
            PromptPair p = r.render(Q, Preference.of("Be concise."));
            assertEquals(turn + Q + end, p.base().text());
            assertEquals(turn + "Be concise.\n\n" + Q + end, p.preference().text());
            assertOneBos(p);

            PromptPair s = r.render(io.github.amulet4j.djl.Conversation.of("You answer questions.",
                    List.of(ChatMessage.user(Q))), Preference.of("Be concise."), PromptStyle.DEFAULT);
            assertEquals(turn + "You answer questions.\n\n" + Q + end, s.base().text());
            assertEquals(turn + "You answer questions. Be concise.\n\n" + Q + end, s.preference().text());
            assertOneBos(s);
        }
    }

    private static void assertOneBos(PromptPair p) {
        for (int[] ids : List.of(p.base().tokenIds(), p.preference().tokenIds())) {
            assertEquals(BOS, ids[0], Arrays.toString(ids));
            assertNotEquals(BOS, ids[1], Arrays.toString(ids));
            assertEquals(id("<start_of_turn>"), ids[1], Arrays.toString(ids));
        }
        assertTrue(p.preference().tokenIds().length > p.base().tokenIds().length);
    }
}
