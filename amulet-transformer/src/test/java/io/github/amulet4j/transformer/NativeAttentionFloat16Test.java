package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The native attention over a binary16 cache ({@code short[]}, {@link KvCachePrecision#F16}) against the float32
 * entry points over a float32 cache holding the same rounded values: the same bits, on every variant this CPU has,
 * for slot counts that are and are not whole tiles, a single slot, windows, padding (a query that sees no slot) and
 * split ranges starting and ending inside tiles. The float32 results over the unrounded values differ (the test
 * would notice a half path that read the wrong elements as long as they were finite).
 */
class NativeAttentionFloat16Test extends NativeVariantTestBase {

    private static short[] toHalf(float[] a) {
        short[] h = new short[a.length];
        for (int i = 0; i < a.length; i++) {
            h[i] = SafetensorsDtype.floatToHalf(a[i]);
        }
        return h;
    }

    private static float[] widen(short[] h) {
        float[] a = new float[h.length];
        for (int i = 0; i < h.length; i++) {
            a[i] = SafetensorsDtype.halfToFloat(h[i]);
        }
        return a;
    }

    private static void assertSameBits(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(where + ", element " + i + ": " + got[i] + " over binary16, " + want[i] + " over float32");
            }
        }
    }

    @Test
    void wholeQueriesOverBinary16HaveTheBitsOfFloat32OverTheRoundedValues() {
        assumeNative();
        before = NativeExp.variant();
        int rows = 6;
        int differs = 0;
        // {slots, heads, i0, n, query0, pad, window}
        int[][] cases = {{1, 7, 0, 1, 0, 0, Integer.MAX_VALUE}, {TILE - 1, 7, 0, 3, TILE - 4, 0, Integer.MAX_VALUE},
                {TILE, 8, 1, 2, TILE - 2, 0, Integer.MAX_VALUE}, {TILE + 1, 3, 0, 6, TILE - 5, 2, Integer.MAX_VALUE},
                {300, 14, 1, 5, 200, 3, Integer.MAX_VALUE}, {300, 8, 0, 4, 290, 0, 37}, {37, 9, 0, 6, 5, 8,
                Integer.MAX_VALUE}, {300, 1, 0, 1, 299, 0, 1}, {517, 7, 0, 2, 515, 0, Integer.MAX_VALUE}};
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int[] c : cases) {
                int slots = c[0], heads = c[1], i0 = c[2], n = c[3], query0 = c[4], pad = c[5], window = c[6];
                AttentionInputs s = AttentionInputs.random(HEAD_DIM, slots, heads, rows, 0.3, 31 + v + slots);
                short[] hk = toHalf(s.keys());
                short[] hv = toHalf(s.values());
                int total = query0 + n;
                float[] half = new float[rows * s.qDim()];
                float[] rounded = new float[rows * s.qDim()];
                float[] unrounded = new float[rows * s.qDim()];
                float[] scratch = new float[8 * (total + TILE)];
                NativeAttention.attendChecked(hk, hv, s.qkv(), half, scratch, HEAD_DIM, TILE, s.qkvDim(), s.qDim(), i0,
                        n, query0, 0, heads, pad, window, total);
                NativeAttention.attendChecked(widen(hk), widen(hv), s.qkv(), rounded, scratch, HEAD_DIM, TILE,
                        s.qkvDim(), s.qDim(), i0, n, query0, 0, heads, pad, window, total);
                NativeAttention.attendChecked(s.keys(), s.values(), s.qkv(), unrounded, scratch, HEAD_DIM, TILE,
                        s.qkvDim(), s.qDim(), i0, n, query0, 0, heads, pad, window, total);
                assertSameBits(rounded, half, "variant " + v + ", case " + Arrays.toString(c));
                if (!Arrays.equals(half, unrounded)) {
                    differs++;
                }
            }
        }
        assertEquals(before * cases.length, differs, "every case's values were changed by the rounding");
    }

    @Test
    void splitPartialsOverBinary16HaveTheBitsOfFloat32OverTheRoundedValues() {
        assumeNative();
        before = NativeExp.variant();
        // {slots, from, to, count}
        int[][] cases = {{600, 0, 600, 8}, {600, 256, 600, 7}, {300, 13, 300, 7}, {41, 40, 41, 3}, {513, 511, 513, 1},
                {29, 5, 29, 5}, {1, 0, 1, 7}, {TILE + 3, 1, TILE + 3, 8}};
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int[] c : cases) {
                int slots = c[0], from = c[1], to = c[2], count = c[3];
                AttentionInputs s = AttentionInputs.random(HEAD_DIM, slots, 8, 1, 0.3, 57 + v + slots);
                short[] hk = toHalf(s.keys());
                short[] hv = toHalf(s.values());
                float[] scratch = new float[8 * (to - from + 2 * TILE)];
                int out = 8 * HEAD_DIM;
                float[] halfValues = new float[2 * 8 * HEAD_DIM];
                float[] halfStats = new float[3 + 16];
                NativeAttention.attendPartialChecked(hk, hv, s.qkv(), halfValues, halfStats, scratch, HEAD_DIM, TILE,
                        0, count, from, to, out, 3);
                float[] values = new float[2 * 8 * HEAD_DIM];
                float[] stats = new float[3 + 16];
                NativeAttention.attendPartialChecked(widen(hk), widen(hv), s.qkv(), values, stats, scratch, HEAD_DIM,
                        TILE, 0, count, from, to, out, 3);
                String where = "variant " + v + ", case " + Arrays.toString(c);
                assertSameBits(values, halfValues, where + ", partial values");
                assertSameBits(stats, halfStats, where + ", partial statistics");
                assertTrue(stats[3 + 8] > 0, where + ": a sum of exponentials was written");
            }
        }
    }

    @Test
    void mixedOrShortArraysAreRefused() {
        assumeNative();
        AttentionInputs s = AttentionInputs.random(HEAD_DIM, 40, 7, 2, 0.3, 3);
        float[] attn = new float[2 * s.qDim()];
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.attendChecked(toHalf(s.keys()), s.values(), s.qkv(), attn, new float[8 * 64],
                        HEAD_DIM, TILE, s.qkvDim(), s.qDim(), 0, 2, 30, 0, 7, 0, Integer.MAX_VALUE, 32));
        assertTrue(mixed.getMessage().contains("short[] and float[]"), mixed.getMessage());
        short[] shortValues = Arrays.copyOf(toHalf(s.values()), 10);
        assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.attendChecked(toHalf(s.keys()), shortValues, s.qkv(), attn, new float[8 * 64],
                        HEAD_DIM, TILE, s.qkvDim(), s.qDim(), 0, 2, 30, 0, 7, 0, Integer.MAX_VALUE, 32));
        assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.attendPartialChecked(toHalf(s.keys()), shortValues, s.qkv(),
                        new float[8 * HEAD_DIM], new float[16], new float[8 * 64], HEAD_DIM, TILE, 0, 8, 0, 32, 0, 0));
    }
}
