package io.github.amulet4j.transformer;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PromptCache}'s bookkeeping on stand-in rows of a known size: longest-prefix lookup, least-recently-used
 * eviction of whole entries within the budget, no copy of a sequence already covered, an entry covered by a newer
 * one dropped.
 */
class PromptCacheLruTest {

    /** Rows of {@code slots} slots at 100 bytes a slot. */
    record Rows(int slots) implements KvCache.KvRows {
        @Override
        public long bytes() {
            return 100L * slots;
        }
    }

    static int[] seq(int start, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = start + i;
        }
        return t;
    }

    /** Bytes of an entry of {@code n} tokens: rows and tokens. */
    static long entry(int n) {
        return 104L * n;
    }

    @Test
    void longestPrefixEvictionAndCoverage() {
        PromptCache cache = new PromptCache(entry(10) + entry(10));
        AtomicInteger copies = new AtomicInteger();
        cache.offer(seq(0, 10), () -> { copies.incrementAndGet(); return new Rows(10); });
        cache.offer(seq(100, 10), () -> { copies.incrementAndGet(); return new Rows(10); });
        assertEquals(2, copies.get());
        // a prefix of a held sequence is not copied again
        cache.offer(seq(0, 6), () -> { copies.incrementAndGet(); return new Rows(6); });
        assertEquals(2, copies.get());
        int[] prompt = seq(0, 14);
        prompt[7] = -1;
        assertEquals(7, cache.longest(prompt, 13).length());
        assertEquals(3, cache.longest(prompt, 3).length(), "limited");
        assertNull(cache.longest(seq(50, 5), 4));
        // seq(0) was used last: a third entry evicts seq(100)
        cache.offer(seq(200, 10), () -> new Rows(10));
        assertNull(cache.longest(seq(100, 10), 9));
        assertEquals(9, cache.longest(seq(0, 10), 9).length());
        PromptCache.Stats s = cache.stats();
        assertEquals(1, s.evictions());
        assertEquals(2, s.entries());
        assertTrue(s.bytesHeld() <= s.budgetBytes());
        // a longer sequence replaces the entry that is its prefix
        cache.offer(seq(0, 12), () -> new Rows(12));
        assertEquals(12, cache.longest(seq(0, 13), 12).length());
        assertTrue(cache.stats().bytesHeld() <= cache.budgetBytes());
        assertEquals(1, cache.stats().entries(), "seq(0, 10) covered and seq(200) evicted for room");
        // larger than the whole budget: not kept
        cache.offer(seq(500, 40), () -> new Rows(40));
        assertNull(cache.longest(seq(500, 40), 39));
        cache.record(7, 20);
        cache.record(0, 5);
        assertEquals(2, cache.stats().lookups());
        assertEquals(1, cache.stats().hits());
        assertEquals(7, cache.stats().tokensReused());
        assertEquals(18, cache.stats().tokensPrefilled());
    }

    @Test
    void theNextTurnReplacesThePreviousOneButNotEntriesSharingOnlyASystemPrompt() {
        PromptCache cache = new PromptCache(1 << 20);
        int[] system = seq(0, 20);
        int[] turn1 = concat(system, seq(1000, 200), seq(5000, 30)); // prompt, then a 30-token answer
        int[] other = concat(system, seq(2000, 100), seq(6000, 100)); // another user, same system prompt
        cache.offer(turn1, () -> new Rows(turn1.length));
        cache.offer(other, () -> new Rows(other.length));
        // turn 2: turn 1's prompt, its answer re-tokenized (other ids), a new question
        int[] turn2 = concat(system, seq(1000, 200), seq(7000, 28), seq(3000, 150));
        assertEquals(220, cache.longest(turn2, turn2.length - 1).length());
        cache.offer(turn2, () -> new Rows(turn2.length));
        assertEquals(2, cache.stats().entries(), "turn 1 replaced by turn 2, the other user's entry kept");
        assertEquals(other.length - 1, cache.longest(other, other.length - 1).length());
        assertTrue(PromptCache.supersedes(turn2, turn1));
        assertTrue(!PromptCache.supersedes(turn2, other));
        assertTrue(!PromptCache.supersedes(seq(100, 30), seq(0, 10)), "nothing shared");
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void budgetMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PromptCache(0));
        assertTrue(e.getMessage().contains("budgetBytes"), e.getMessage());
    }
}
