package io.github.amulet4j.eval.judge;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Win rate with ties as half and the Wilson interval, against values computed by hand (and published tables). */
class TallyTest {

    @Test
    void winRateCountsTiesAsHalfAndLeavesUnparsableOut() {
        Tally t = new Tally(3, 2, 1, 5);
        assertEquals(6, t.n());
        assertEquals(4.0 / 6, t.winRate(), 1e-15);
        assertEquals(0.5, new Tally(0, 7, 0, 0).winRate(), 0);
        assertEquals(0.25, new Tally(1, 0, 3, 0).winRate(), 0);
        assertTrue(Double.isNaN(new Tally(0, 0, 0, 4).winRate()));
        assertTrue(Double.isNaN(new Tally(0, 0, 0, 4).ciLow()));
    }

    @Test
    void wilsonIntervalEqualsHandComputedValues() {
        // p = 2/3, n = 6: centre (p + z^2/12) / (1 + z^2/6), half z/(1 + z^2/6) * sqrt(p(1-p)/6 + z^2/144)
        Tally t = new Tally(3, 2, 1, 0);
        assertEquals(0.299993315138392, t.ciLow(), 1e-12);
        assertEquals(0.9032285888942195, t.ciHigh(), 1e-12);
        // 3 of 3: the textbook 43.85% lower bound, upper bound 1
        Tally all = new Tally(3, 0, 0, 0);
        assertEquals(0.4385, all.ciLow(), 5e-5);
        assertEquals(1.0, all.ciHigh(), 1e-12);
        // 0 of 10: lower bound 0, upper 27.75%
        Tally none = new Tally(0, 0, 10, 0);
        assertEquals(0.0, none.ciLow(), 1e-12);
        assertEquals(0.2775, none.ciHigh(), 5e-5);
        // 6 of 10: [31.27%, 83.18%]
        Tally six = new Tally(6, 0, 4, 0);
        assertEquals(0.31267376973365824, six.ciLow(), 1e-12);
        assertEquals(0.8318196702937638, six.ciHigh(), 1e-12);
    }

    @Test
    void outcomesAddUp() {
        Tally t = Tally.EMPTY;
        for (Outcome o : Outcome.values()) {
            t = t.plus(o);
        }
        assertEquals(new Tally(1, 1, 1, 1), t);
        assertEquals(new Tally(2, 2, 2, 2), t.plus(t));
    }
}
