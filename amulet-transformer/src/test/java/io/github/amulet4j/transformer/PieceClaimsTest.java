package io.github.amulet4j.transformer;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@link PieceClaims}: every piece is handed out exactly once whichever threads take part, a thread gets its own run
 * front to back before it takes from the others, and a run nobody joins for is taken from its back.
 */
class PieceClaimsTest {

    @Test
    void aThreadTakesItsOwnRunInOrderThenTheOthersFromTheirEnds() {
        PieceClaims claims = new PieceClaims(2);
        claims.reset(8);
        int me = claims.join();
        assertEquals(0, me);
        List<Integer> got = new ArrayList<>();
        for (int p = claims.claim(me); p >= 0; p = claims.claim(me)) {
            got.add(p);
        }
        // run 0 is [0, 4), run 1 [4, 8): the second run from its back, as the thread it belongs to never came
        assertEquals(List.of(0, 1, 2, 3, 7, 6, 5, 4), got);
        assertEquals(-1, claims.claim(me));
    }

    @Test
    void runsAreAsEvenAsCanBeAndEmptyRunsAreSkipped() {
        PieceClaims claims = new PieceClaims(3);
        claims.reset(2);
        // runs [0, 0), [0, 1), [1, 2)
        int first = claims.join();
        int second = claims.join();
        int third = claims.join();
        assertEquals(0, claims.claim(second));
        assertEquals(1, claims.claim(third));
        assertEquals(-1, claims.claim(first));
        claims.reset(7);
        // runs [0, 2), [2, 4), [4, 7): reset starts a new product, joins counted again
        assertEquals(0, claims.join());
        assertEquals(4, claims.claim(2));
        assertEquals(2, claims.claim(1));
        assertEquals(0, claims.claim(0));
    }

    /** A thread beyond the pool's count (none should come) only takes what is left, from the runs' ends. */
    @Test
    void aThreadWithoutARunOnlyTakesWhatIsLeft() {
        PieceClaims claims = new PieceClaims(2);
        claims.reset(4);
        // runs [0, 2), [2, 4): the next run after its number (1), from the back
        assertEquals(3, claims.claim(2));
        assertEquals(2, claims.claim(2));
        assertEquals(0, claims.claim(0));
        // run 1 is empty: its thread takes from run 0's back
        assertEquals(1, claims.claim(1));
        assertEquals(-1, claims.claim(2));
    }

    @Test
    void everyPieceOnceWhenThreadsRaceForThem() throws Exception {
        int threads = 4;
        PieceClaims claims = new PieceClaims(threads);
        try (RowSplitPool pool = new RowSplitPool(threads, "claims-test")) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int round = 0; round < 2_000; round++) {
                    int pieces = 1 + round % 37;
                    AtomicIntegerArray taken = new AtomicIntegerArray(pieces);
                    claims.reset(pieces);
                    pool.runShared(() -> {
                        int me = claims.join();
                        for (int p = claims.claim(me); p >= 0; p = claims.claim(me)) {
                            taken.incrementAndGet(p);
                        }
                    });
                    for (int p = 0; p < pieces; p++) {
                        assertEquals(1, taken.get(p), "round " + round + ": piece " + p + " of " + pieces);
                    }
                }
            });
        }
    }

    @Test
    void noThreadsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PieceClaims(0));
        assertEquals("threads must be >= 1, got 0", e.getMessage());
    }
}
