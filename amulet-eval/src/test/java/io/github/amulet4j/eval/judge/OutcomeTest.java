package io.github.amulet4j.eval.judge;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Both orders decide: agreement wins or loses, disagreement or an explicit tie is a tie. */
class OutcomeTest {

    static Judgement j(String a, String b, Verdict v) {
        return new Judgement(new JudgementKey(1, "concise", a, b), "sha", v, "reply", null, "m", "t", 1, 0);
    }

    @Test
    void combinesTheTwoOrders() {
        // candidate "amulet" first in the first judgement, baseline "base" first in the second
        assertEquals(Outcome.WIN, Outcome.of("amulet", j("amulet", "base", Verdict.A), j("base", "amulet", Verdict.B)));
        assertEquals(Outcome.LOSS, Outcome.of("amulet", j("amulet", "base", Verdict.B), j("base", "amulet", Verdict.A)));
        assertEquals(Outcome.TIE, Outcome.of("amulet", j("amulet", "base", Verdict.A), j("base", "amulet", Verdict.A)));
        assertEquals(Outcome.TIE, Outcome.of("amulet", j("amulet", "base", Verdict.B), j("base", "amulet", Verdict.B)));
        assertEquals(Outcome.TIE, Outcome.of("amulet", j("amulet", "base", Verdict.TIE), j("base", "amulet", Verdict.B)));
        assertEquals(Outcome.TIE, Outcome.of("amulet", j("amulet", "base", Verdict.A), j("base", "amulet", Verdict.TIE)));
        assertEquals(Outcome.TIE, Outcome.of("amulet", j("amulet", "base", Verdict.TIE), j("base", "amulet", Verdict.TIE)));
        assertEquals(Outcome.UNPARSABLE, Outcome.of("amulet", j("amulet", "base", null), j("base", "amulet", Verdict.B)));
        assertEquals(Outcome.UNPARSABLE, Outcome.of("amulet", j("amulet", "base", Verdict.A), j("base", "amulet", null)));
        assertEquals(Outcome.PENDING, Outcome.of("amulet", j("amulet", "base", Verdict.A), null));
        assertEquals(Outcome.PENDING, Outcome.of("amulet", null, null));
    }
}
