package io.github.amulet4j.eval.judge;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JudgePromptTest {

    static Answer answer(String method, String text) {
        return new Answer(1, method, "concise", "Be concise.", "What is {answer_b}?", text, "f line 1");
    }

    @Test
    void fillsEachPlaceholderOnceFromLeftToRight() {
        JudgePrompt p = JudgePrompt.of("Q={question} P={preference} A={answer_a} B={answer_b} again A={answer_a} {other}");
        String s = p.render(answer("amulet", "I say {answer_b} and {question}"), answer("base", "plain"));
        // placeholders inside the values stay as written
        assertEquals("Q=What is {answer_b}? P=Be concise. A=I say {answer_b} and {question} B=plain again "
                + "A=I say {answer_b} and {question} {other}", s);
    }

    @Test
    void aTemplateNeedsEveryPlaceholder() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JudgePrompt.of("{question} {answer_a}"));
        assertTrue(e.getMessage().contains("lacks {preference}, {answer_b}"), e.getMessage());
    }

    @Test
    void theDefaultTemplateAsksForTheStrictVerdict() {
        JudgePrompt p = JudgePrompt.defaultTemplate();
        for (String placeholder : JudgePrompt.PLACEHOLDERS) {
            assertTrue(p.template().contains(placeholder), placeholder);
        }
        assertTrue(p.template().contains("\"[[A]]\"") && p.template().contains("\"[[B]]\"")
                && p.template().contains("\"[[C]]\" for a tie"));
        assertEquals(64, p.sha256().length());
        assertEquals(p.sha256(), JudgePrompt.defaultTemplate().sha256());
        assertNotEquals(p.sha256(), JudgePrompt.of(p.template() + " ").sha256());
        // SHA-256 of "abc" (FIPS 180-2 test vector)
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", JudgePrompt.sha256("abc"));
    }
}
