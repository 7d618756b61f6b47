package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.djl.PromptPair;
import io.github.amulet4j.djl.PromptRenderer;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Phi-3.5-style folder ({@link Phi3TokenizerFolder}): the SentencePiece BPE tokenizer with byte fallback and Phi-3's
 * added tokens loads; special tokens split the text, take the whitespace after them ({@code rstrip}, all but
 * {@code <|endoftext|>}), and each piece between them gets SentencePiece's leading {@code ▁}; the two
 * streams of ALGORITHM.md section 1 differ by the preference's system turn only; the stop ids come from
 * generation_config.json.
 */
class Phi3TokenizerTest {

    @TempDir
    Path dir;

    static final String QUESTION = "What is the ozone layer?";
    static final String PREFERENCE = "Answer in as few words as you can.";

    @Test
    void theFolderCarriesTheRealTemplateOfTheJinjaFixture() {
        assertEquals(io.github.amulet4j.jinja.FixtureRenderingTest.read(io.github.amulet4j.jinja.FixtureRenderingTest
                .casesDir().resolve("real_phi35_mini_instruct.jinja")), Phi3TokenizerFolder.PHI35_CHAT_TEMPLATE);
    }

    /** Phi-4-mini-instruct's real template (no newlines, tools on a system turn) through the two-stream builder. */
    @Test
    void phi4MiniStreamsDifferByThePreferenceOnly() {
        Path file = io.github.amulet4j.jinja.FixtureRenderingTest.casesDir().resolve("real_phi4_mini_instruct.jinja");
        io.github.amulet4j.djl.template.ChatTemplate phi4 = io.github.amulet4j.djl.template.ChatTemplate
                .builder(io.github.amulet4j.jinja.FixtureRenderingTest.read(file), file.getFileName().toString())
                .bosToken("<|endoftext|>").eosToken("<|endoftext|>").build();
        assertEquals(java.util.Optional.empty(), io.github.amulet4j.prompt.DefaultSystemMessage.find(phi4));
        io.github.amulet4j.prompt.PromptTextBuilder.Texts t = new io.github.amulet4j.prompt.PromptTextBuilder(phi4)
                .build(null, QUESTION, io.github.amulet4j.prompt.Preference.text(PREFERENCE));
        assertEquals("<|user|>" + QUESTION + "<|end|><|assistant|>", t.base());
        assertEquals("<|system|>" + PREFERENCE + "<|end|><|user|>" + QUESTION + "<|end|><|assistant|>", t.preference());
        io.github.amulet4j.prompt.PromptTextBuilder.Texts s = new io.github.amulet4j.prompt.PromptTextBuilder(phi4)
                .build("You are terse.", QUESTION, io.github.amulet4j.prompt.Preference.text(PREFERENCE));
        assertEquals("<|system|>You are terse.<|end|><|user|>" + QUESTION + "<|end|><|assistant|>", s.base());
        assertEquals("<|system|>You are terse. " + PREFERENCE + "<|end|><|user|>" + QUESTION + "<|end|><|assistant|>",
                s.preference());
    }

    @Test
    void phi3TokenizerLoadsAndSplitsAtItsSpecialTokens() throws IOException {
        try (HfTokenizer t = HfTokenizer.load(Phi3TokenizerFolder.write(dir, "phi35"))) {
            assertEquals(32011, t.vocabularySize());
            assertEquals(32010, t.tokenToId("<|user|>"));
            assertEquals(32007, t.tokenToId("<|end|>"));
            assertEquals(32000, t.eosTokenId());
            assertTrue(t.isSpecial(32001) && t.isSpecial(32006));
            assertFalse(t.addsBos());
            int space = t.tokenToId("\u2581");
            int newline = t.tokenToId("<0x0A>");
            assertArrayEquals(new int[] {space, newline}, t.encode("\n"));
            // the special tokens take the newline after them (rstrip); the text between gets SentencePiece's \u2581
            int[] question = t.encode(QUESTION);
            assertEquals(t.tokenToId("\u2581What"), question[0]);
            int[] turn = t.encode("<|user|>\n" + QUESTION + "<|end|>\n<|assistant|>\n");
            int[] want = IntStream.concat(IntStream.concat(IntStream.of(32010), Arrays.stream(question)),
                    IntStream.of(32007, 32001)).toArray();
            assertArrayEquals(want, turn);
            // <|endoftext|> keeps what follows it
            assertArrayEquals(new int[] {32000, space, newline}, t.encode("<|endoftext|>\n"));
            assertEquals("<|user|> " + QUESTION + "<|end|><|assistant|>", t.decode(turn, false));
            // bytes outside the vocabulary fall back to byte tokens and decode back
            assertEquals("naïve 日本 😀", t.decode(t.encode("naïve 日本 😀"), false).strip());
        }
    }

    @Test
    void theTwoStreamsDifferByThePreferenceOnly() throws IOException {
        try (PromptRenderer renderer = PromptRenderer.load(Phi3TokenizerFolder.write(dir, "phi35"))) {
            PromptPair p = renderer.render(QUESTION, Preference.of(PREFERENCE));
            String turns = "<|user|>\n" + QUESTION + "<|end|>\n<|assistant|>\n";
            assertEquals(turns, p.base().text());
            assertEquals("<|system|>\n" + PREFERENCE + "<|end|>\n" + turns, p.preference().text());
            int[] base = p.base().tokenIds();
            int[] pref = p.preference().tokenIds();
            assertEquals(32010, base[0], "no BOS: Phi-3.5's tokenizer adds none and the template writes none");
            assertEquals(32006, pref[0]);
            assertArrayEquals(base, Arrays.copyOfRange(pref, pref.length - base.length, pref.length),
                    "the preference stream is the base stream behind a system turn");
            assertTrue(renderer.eosTokenIds().containsAll(Phi3TokenizerFolder.STOP_IDS), renderer.eosTokenIds().toString());
        }
    }
}
