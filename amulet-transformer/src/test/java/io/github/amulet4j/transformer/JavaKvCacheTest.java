package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link JavaKvCache}'s bookkeeping of a sliding-window layer beside a global one, on slots whose keys and values hold
 * their own slot number: what each layer holds after many chunks, that copied-out rows restore exactly the prefixes
 * whose window they hold, and that restored slots land where a pass reads them; in float32 and in float16 (the slot
 * numbers' values are whole numbers below 2048, which binary16 holds exactly).
 */
class JavaKvCacheTest {

    static final int WINDOW = 4;
    static final int HEAD_DIM = 2;

    /** Layer 0 sliding (window 4), layer 1 global; one row, one key head of two dimensions. */
    static JavaKvCache cache(int capacity, KvCachePrecision precision) {
        return new JavaKvCache(2, 1, 1, HEAD_DIM, capacity, new int[] {WINDOW, JavaKvCache.GLOBAL}, precision);
    }

    /** What key and value dimension {@code d} of slot {@code s} hold. */
    static float value(int s, int d) {
        return s * 4 + d;
    }

    /** Element {@code i} of a cache array, float32 or binary16. */
    static float at(Object array, int i) {
        return array instanceof float[] f ? f[i] : SafetensorsDtype.halfToFloat(((short[]) array)[i]);
    }

    /** Writes slots {@code [used, used + t)} as a pass does: key and value dimension d of slot s hold {@link #value}. */
    static void write(JavaKvCache c, int t) {
        c.reserve(t);
        c.makeRoom(t);
        for (int l = 0; l < 2; l++) {
            for (int s = c.used(); s < c.used() + t; s++) {
                float[] src = new float[2 * HEAD_DIM];
                for (int d = 0; d < HEAD_DIM; d++) {
                    src[d] = value(s, d);
                    src[HEAD_DIM + d] = value(s, d);
                }
                c.write(l, 0, 0, s - c.start(l), src, 0, HEAD_DIM);
            }
        }
        c.advance(t);
    }

    /** Asserts that {@code layer} holds slot {@code s} where a pass reads it. */
    static void holds(JavaKvCache c, int layer, int s) {
        int i = s - c.start(layer);
        assertTrue(i >= 0 && i < c.room(layer), "layer " + layer + " holds slot " + s);
        for (int d = 0; d < HEAD_DIM; d++) {
            assertEquals(value(s, d), at(c.keyArray(layer, 0, 0), JavaKvCache.keyIndex(i, d, HEAD_DIM)),
                    "key of slot " + s);
            assertEquals(value(s, d), at(c.valueArray(layer, 0, 0), i * HEAD_DIM + d), "value of slot " + s);
        }
    }

    @ParameterizedTest
    @EnumSource(KvCachePrecision.class)
    void slidingLayerHoldsItsWindowAndMarginOnlyAndTheGlobalOneEverything(KvCachePrecision precision) {
        try (JavaKvCache c = cache(8, precision)) {
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
            assertTrue(value(used, HEAD_DIM) < 2048, "binary16 holds every value exactly");
            assertEquals(precision == KvCachePrecision.F16, c.half());
            if (precision == KvCachePrecision.F16) {
                assertThrows(IllegalStateException.class, () -> c.keys(0, 0, 0), "the Java attention reads float32");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KvCachePrecision.class)
    void copiedOutRowsRestoreOnlyPrefixesWhoseWindowTheyHold(KvCachePrecision precision) {
        try (JavaKvCache c = cache(8, precision)) {
            for (int k = 0; k < 100; k++) {
                write(c, 1);
            }
            KvCache.KvRows rows = c.copyOut(0, 0, 100);
            // the bytes the rows hold: the global layer's 100 slots and the sliding one's kept, keys and values
            long held = 100 + (100 - c.start(0));
            assertEquals(2 * held * HEAD_DIM * precision.bytesPerElement(), rows.bytes());
            int margin = JavaKvCache.margin(WINDOW);
            // within the margin of the end: the window before each prefix is held
            for (int n = 100 - margin; n <= 100; n++) {
                assertTrue(rows.restores(n), "prefix of " + n);
            }
            // early prefixes need slots the sliding layer dropped
            assertFalse(rows.restores(10));
            assertFalse(rows.restores(101));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cache(128, precision).copyIn(0, 0, rows, 10));
            assertTrue(e.getMessage().contains("sliding"), e.getMessage());

            // a prefix of 99 restored 5 slots to the right (padding before it): every slot a query after it sees
            KvCachePrecision other = precision == KvCachePrecision.F16 ? KvCachePrecision.F32 : KvCachePrecision.F16;
            IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                    () -> cache(128, other).copyIn(0, 0, rows, 99));
            assertTrue(mixed.getMessage().contains("precision"), mixed.getMessage());
            try (JavaKvCache d = cache(128, precision)) {
                d.copyIn(0, 5, rows, 99);
                d.advance(5 + 99);
                for (int s = 99 - (WINDOW - 1); s < 99; s++) {
                    int i = s + 5 - d.start(0);
                    assertEquals(value(s, 1), at(d.valueArray(0, 0, 0), i * HEAD_DIM + 1), "sliding slot " + s);
                    assertEquals(value(s, 1), at(d.keyArray(0, 0, 0), JavaKvCache.keyIndex(i, 1, HEAD_DIM)));
                }
                for (int s = 0; s < 99; s++) {
                    assertEquals(value(s, 0), at(d.valueArray(1, 0, 0), (s + 5) * HEAD_DIM), "global slot " + s);
                    assertEquals(value(s, 1), at(d.keyArray(1, 0, 0), JavaKvCache.keyIndex(s + 5, 1, HEAD_DIM)));
                }
                assertTrue(d.room(0) < 99, "the sliding layer holds a window's worth, not the prefix: " + d.room(0));
            }
        }
    }

    /** Writes slots {@code [used, used + t)} of every row: row r's slot s holds {@link #value}{@code (s, d) + 512 r}. */
    static void writeRows(JavaKvCache c, int t) {
        c.reserve(t);
        c.makeRoom(t);
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < c.batch(); r++) {
                for (int s = c.used(); s < c.used() + t; s++) {
                    float[] src = new float[2 * HEAD_DIM];
                    for (int d = 0; d < HEAD_DIM; d++) {
                        src[d] = value(s, d) + 512 * r;
                        src[HEAD_DIM + d] = -(value(s, d) + 512 * r);
                    }
                    c.write(l, r, 0, s - c.start(l), src, 0, HEAD_DIM);
                }
            }
        }
        c.advance(t);
    }

    /**
     * A float16 cache through absorb (rows of another length, so padded, at offsets inside a tile), select, sliding
     * compaction and growth holds every array element the float32 one holds (values that binary16 holds exactly).
     */
    @org.junit.jupiter.api.Test
    void aFloat16CacheMovesItsSlotsAsTheFloat32OneDoes() {
        JavaKvCache[] caches = new JavaKvCache[2];
        for (KvCachePrecision p : KvCachePrecision.values()) {
            JavaKvCache a = new JavaKvCache(2, 2, 1, HEAD_DIM, 8, new int[] {WINDOW, JavaKvCache.GLOBAL}, p);
            JavaKvCache b = new JavaKvCache(2, 1, 1, HEAD_DIM, 8, new int[] {WINDOW, JavaKvCache.GLOBAL}, p);
            writeRows(a, 23);
            writeRows(b, 37);
            a.absorb(b);
            writeRows(a, 5);
            a.select(new int[] {2, 0, 1}, 0);
            for (int k = 0; k < 20; k++) {
                writeRows(a, k % 4 == 0 ? 3 : 1);
            }
            caches[p.ordinal()] = a;
        }
        JavaKvCache f32 = caches[0];
        JavaKvCache f16 = caches[1];
        assertEquals(f32.used(), f16.used());
        assertEquals(f32.batch(), f16.batch());
        assertEquals(2 * f16.bytes(), f32.bytes());
        for (int l = 0; l < 2; l++) {
            assertEquals(f32.start(l), f16.start(l));
            assertEquals(f32.room(l), f16.room(l));
            for (int r = 0; r < f32.batch(); r++) {
                float[] k = f32.keys(l, r, 0);
                float[] v = f32.values(l, r, 0);
                short[] hk = (short[]) f16.keyArray(l, r, 0);
                short[] hv = (short[]) f16.valueArray(l, r, 0);
                assertEquals(k.length, hk.length);
                assertEquals(v.length, hv.length);
                for (int i = 0; i < k.length; i++) {
                    assertEquals(k[i], at(hk, i), "layer " + l + " row " + r + " key element " + i);
                }
                for (int i = 0; i < v.length; i++) {
                    assertEquals(v[i], at(hv, i), "layer " + l + " row " + r + " value element " + i);
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f32.absorb(f16));
        assertTrue(e.getMessage().contains("precision"), e.getMessage());
    }
}
