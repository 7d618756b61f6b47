package io.github.amulet4j.djl;

import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.prompt.ChatMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The token ids a reward model reads, in the documented format and in the paper's ({@code rm_evals.py}: the rendered
 * text tokenized again with special tokens, cut to {@code max_new_tokens}), on a tiny ArmoRM with a Llama 3 style
 * tokenizer (its post-processor prepends {@code <|begin_of_text|>}) and template. The expected ids are built here
 * piece by piece from the special tokens' ids and the plain text's encoding, not from the chat template.
 */
class RewardEncodingTest {

    @TempDir
    static Path dir;

    private static RewardModelFolders.ArmoRmHead head;

    private static final String QUESTION = "What is rain?";
    private static final String PREFERENCE = "Your answer should be concise as much as possible.";
    private static final String ANSWER = "Water that falls from clouds.";

    @BeforeAll
    static void model() throws IOException {
        head = RewardModelFolders.writeArmoRm(dir, 5, 16, 2, 3.0);
    }

    private static Conversation conversation(String answer) {
        return Conversation.of(null, List.of(ChatMessage.user(QUESTION + " " + PREFERENCE),
                ChatMessage.assistant(answer)));
    }

    /** {@code <|begin_of_text|>} then each turn as Llama 3's template writes it, built from the pieces' ids. */
    private static int[] documentedIds(HfTokenizer tok, String answer) {
        int bos = tok.tokenToId("<|begin_of_text|>");
        int sh = tok.tokenToId("<|start_header_id|>");
        int eh = tok.tokenToId("<|end_header_id|>");
        int eot = tok.tokenToId("<|eot_id|>");
        IntStream.Builder b = IntStream.builder();
        b.add(bos);
        for (String[] turn : new String[][] {{"user", QUESTION + " " + PREFERENCE}, {"assistant", answer}}) {
            b.add(sh);
            Arrays.stream(tok.encode(turn[0])).forEach(b::add);
            b.add(eh);
            Arrays.stream(tok.encode("\n\n" + turn[1])).forEach(b::add);
            b.add(eot);
        }
        return b.build().toArray();
    }

    private static int gate(int[] ids, int[] pattern) {
        for (int j = ids.length - pattern.length; j >= 0; j--) {
            if (Arrays.equals(ids, j, j + pattern.length, pattern, 0, pattern.length)) {
                return j;
            }
        }
        return -1;
    }

    @Test
    void documentedReadsOneBeginOfTextAndThePaperFormatTwoThenCutsToItsLength() throws IOException {
        try (RewardModel rm = RewardModel.load(dir); HfTokenizer tok = HfTokenizer.load(dir)) {
            int bos = tok.tokenToId("<|begin_of_text|>");
            int[] documented = documentedIds(tok, ANSWER);
            RewardTokens d = rm.encode(conversation(ANSWER), RewardEncoding.documented());
            assertArrayEquals(documented, d.ids());
            assertEquals(1, Arrays.stream(d.ids()).filter(t -> t == bos).count());
            assertFalse(d.truncated());
            assertEquals(gate(documented, rm.gatePattern()), d.gate());

            int[] paper = new int[documented.length + 1];
            paper[0] = bos;
            System.arraycopy(documented, 0, paper, 1, documented.length);
            RewardTokens p = rm.encode(conversation(ANSWER), RewardEncoding.paper(1000));
            assertArrayEquals(paper, p.ids(), "the rendered text's <|begin_of_text|> and the tokenizer's");
            assertEquals(d.gate() + 1, p.gate());
            assertFalse(p.truncated());

            int cut = paper.length - 4; // within the answer, after the assistant header
            RewardTokens c = rm.encode(conversation(ANSWER), RewardEncoding.paper(cut));
            assertArrayEquals(Arrays.copyOf(paper, cut), c.ids());
            assertTrue(c.truncated());
            assertEquals(paper.length, c.rendered());
            assertEquals(p.gate(), c.gate());

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> rm.encode(conversation(ANSWER), RewardEncoding.paper(p.gate())));
            assertTrue(e.getMessage().contains("no assistant header"), e.getMessage());
        }
    }

    @Test
    void thePaperFormatsRewardsAreArmoRmsHeadOnItsOwnTokens() throws IOException {
        try (RewardModel rm = RewardModel.load(dir)) {
            int full = rm.encode(conversation(ANSWER), RewardEncoding.paper(1000)).length();
            for (RewardEncoding enc : List.of(RewardEncoding.documented(), RewardEncoding.paper(1000),
                    RewardEncoding.paper(full - 5))) {
                RewardTokens t = rm.encode(conversation(ANSWER), enc);
                float[][] hidden = RewardModelTest.referenceHidden(dir, rm.config().body(), t.ids());
                double[] want = RewardModelTest.armoRmReference(head, hidden, t.length() - 1, t.gate());
                Reward got = rm.scoreEncoded(List.of(t)).get(0);
                for (int k = 0; k < head.objectives(); k++) {
                    assertEquals(want[k], got.reward(k), 1e-4 + 1e-3 * Math.abs(want[k]), enc + ", objective " + k);
                }
                assertEquals(want[head.objectives()], got.score(), 1e-4 + 1e-3 * Math.abs(want[head.objectives()]),
                        enc + ", gated score");
                assertEquals(t.length(), got.tokens());
            }
            Reward documented = rm.score(conversation(ANSWER));
            Reward paper = rm.scoreEncoded(List.of(rm.encode(conversation(ANSWER), RewardEncoding.paper(1000)))).get(0);
            assertTrue(Math.abs(documented.reward(4) - paper.reward(4)) > 1e-6,
                    "the second <|begin_of_text|> changes the rewards");
        }
    }

    @Test
    void anAnswerLongerThanTheContextIsRefusedOrCutWithTruncation() throws IOException {
        String longAnswer = "rain ".repeat(400);
        try (RewardModel rm = RewardModel.load(dir)) {
            int context = rm.config().body().maxPositions();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> rm.encode(conversation(longAnswer), RewardEncoding.documented()));
            assertTrue(e.getMessage().contains("more than the " + context + " positions"), e.getMessage());
            RewardTokens t = rm.encode(conversation(longAnswer),
                    RewardEncoding.builder().truncateToContext(true).build());
            assertEquals(context, t.length());
            assertTrue(t.truncated() && t.rendered() > context, t.toString());
            int[] paper = rm.encode(conversation(longAnswer), RewardEncoding.paper(100_000).toBuilder()
                    .truncateToContext(true).build()).ids();
            assertEquals(context, paper.length);
            assertArrayEquals(Arrays.copyOf(t.ids(), context - 1), Arrays.copyOfRange(paper, 1, context),
                    "the paper format's ids are the documented ones after one more BOS");
        }
    }
}
