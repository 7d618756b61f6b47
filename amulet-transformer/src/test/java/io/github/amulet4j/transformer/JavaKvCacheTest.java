package io.github.amulet4j.transformer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link JavaKvCache}'s bookkeeping of a sliding-window layer beside a global one, on slots whose keys and values hold
 * their own slot number: what each layer holds after many chunks, that copied-out rows restore exactly the prefixes
 * whose window they hold, and that restored slots land where a pass reads them.
 */
class JavaKvCacheTest {

    static final int WINDOW = 4;
    static final int HEAD_DIM = 2;

    /** Layer 0 sliding (window 4), layer 1 global; one row, one key head of two dimensions. */
    static JavaKvCache cache(int capacity) {
        return new JavaKvCache(2, 1, 1, HEAD_DIM, capacity, new int[] {WINDOW, JavaKvCache.GLOBAL});
    }

    /** Writes slots {@code [used, used + t)} as a pass does: key and value dimension d of slot s hold s * 10 + d. */
    static void write(JavaKvCache c, int t) {
        c.reserve(t);
        c.makeRoom(t);
        for (int l = 0; l < 2; l++) {
            for (int s = c.used(); s < c.used() + t; s++) {
                int i = s - c.start(l);
                for (int d = 0; d < HEAD_DIM; d++) {
                    c.keys(l, 0, 0)[JavaKvCache.keyIndex(i, d, HEAD_DIM)] = s * 10 + d;
                    c.values(l, 0, 0)[i * HEAD_DIM + d] = s * 10 + d;
                }
            }
        }
        c.advance(t);
    }

    /** Asserts that {@code layer} holds slot {@code s} where a pass reads it. */
    static void holds(JavaKvCache c, int layer, int s) {
        int i = s - c.start(layer);
        assertTrue(i >= 0 && i < c.room(layer), "layer " + layer + " holds slot " + s);
        for (int d = 0; d < HEAD_DIM; d++) {
            assertEquals(s * 10 + d, c.keys(layer, 0, 0)[JavaKvCache.keyIndex(i, d, HEAD_DIM)], "key of slot " + s);
            assertEquals(s * 10 + d, c.values(layer, 0, 0)[i * HEAD_DIM + d], "value of slot " + s);
        }
    }

    @Test
    void slidingLayerHoldsItsWindowAndMarginOnlyAndTheGlobalOneEverything() {
        try (JavaKvCache c = cache(8)) {
            write(c, 30); // a prefill chunk
            for (int k = 0; k < 170; k++) {
                write(c, k % 3 == 0 ? 3 : 1); // decode steps and short chunks
            }
            int used = c.used();
            assertTrue(c.start(0) > 0, "the sliding layer dropped early slots");
            assertTrue(c.start(0) <= used - JavaKvCache.keepBehind(WINDOW));
            assertTrue(c.room(0) <= JavaKvCache.keepBehind(WINDOW) + JavaKvCache.TILE + 3 + KvCache.MIN_GROWTH,
                    "room " + c.room(0));
            assertEquals(0, c.start(1));
            for (int s = used - JavaKvCache.keepBehind(WINDOW); s < used; s++) {
                holds(c, 0, s);
            }
            for (int s = 0; s < used; s++) {
                holds(c, 1, s);
            }
        }
    }

    @Test
    void copiedOutRowsRestoreOnlyPrefixesWhoseWindowTheyHold() {
        try (JavaKvCache c = cache(8)) {
            for (int k = 0; k < 100; k++) {
                write(c, 1);
            }
            KvCache.KvRows rows = c.copyOut(0, 0, 100);
            int margin = JavaKvCache.margin(WINDOW);
            // within the margin of the end: the window before each prefix is held
            for (int n = 100 - margin; n <= 100; n++) {
                assertTrue(rows.restores(n), "prefix of " + n);
            }
            // early prefixes need slots the sliding layer dropped
            assertFalse(rows.restores(10));
            assertFalse(rows.restores(101));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cache(128).copyIn(0, 0, rows, 10));
            assertTrue(e.getMessage().contains("sliding"), e.getMessage());

            // a prefix of 99 restored 5 slots to the right (padding before it): every slot a query after it sees
            try (JavaKvCache d = cache(128)) {
                d.copyIn(0, 5, rows, 99);
                d.advance(5 + 99);
                for (int s = 99 - (WINDOW - 1); s < 99; s++) {
                    int i = s + 5 - d.start(0);
                    assertEquals(s * 10 + 1, d.values(0, 0, 0)[i * HEAD_DIM + 1], "sliding slot " + s);
                    assertEquals(s * 10 + 1, d.keys(0, 0, 0)[JavaKvCache.keyIndex(i, 1, HEAD_DIM)]);
                }
                for (int s = 0; s < 99; s++) {
                    assertEquals(s * 10, d.values(1, 0, 0)[(s + 5) * HEAD_DIM], "global slot " + s);
                }
                assertTrue(d.room(0) < 99, "the sliding layer holds a window's worth, not the prefix: " + d.room(0));
            }
        }
    }
}
