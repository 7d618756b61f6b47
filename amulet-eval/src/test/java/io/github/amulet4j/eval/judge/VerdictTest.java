package io.github.amulet4j.eval.judge;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VerdictTest {

    @Test
    void readsTheStrictFormatOnly() {
        assertEquals(Optional.of(Verdict.A), Verdict.parse("A explains more.\n[[A]]"));
        assertEquals(Optional.of(Verdict.B), Verdict.parse("[[B]]"));
        assertEquals(Optional.of(Verdict.TIE), Verdict.parse("Equally good. [[C]]"));
        assertEquals(Optional.empty(), Verdict.parse("A is better."));
        assertEquals(Optional.empty(), Verdict.parse("[A]"));
        assertEquals(Optional.empty(), Verdict.parse("[[a]]"));
        assertEquals(Optional.empty(), Verdict.parse("[[ A ]]"));
        assertEquals(Optional.empty(), Verdict.parse("[[D]]"));
        assertEquals(Optional.empty(), Verdict.parse(""));
        assertEquals(Optional.empty(), Verdict.parse(null));
    }

    @Test
    void theLastVerdictDecides() {
        // an explanation quoting the format, then the verdict
        assertEquals(Optional.of(Verdict.B), Verdict.parse("The format is [[A]], [[B]] or [[C]]. My verdict: [[B]]"));
        assertEquals(Optional.of(Verdict.A), Verdict.parse("[[B]] at first sight, but on reflection [[A]]"));
    }

    @Test
    void lettersRoundTrip() {
        for (Verdict v : Verdict.values()) {
            assertEquals(v, Verdict.ofLetter(v.letter()));
        }
        assertEquals("C", Verdict.TIE.letter());
    }
}
