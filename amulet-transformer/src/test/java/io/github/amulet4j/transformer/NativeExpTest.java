package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.weights.NativeKernels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The native loops on the float exp ({@link NativeExp}) against the Java ones ({@link VectorOps#expShiftedJava},
 * {@link VectorOps#siluJava}, {@link VectorOps#geluTanhJava}): every element (and the softmax's sum) bit for bit, on
 * every variant this CPU has, for rows of every length around the vector widths and offsets, values as attention and
 * MLPs make them (a max subtracted, a wide spread, values past the clamp).
 */
class NativeExpTest {

    private int before = -1;

    @AfterEach
    void restoreVariant() {
        if (before > 0) {
            NativeExp.selectVariant(before);
        }
    }

    private static float[] scores(int n, Random r) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = switch (i % 5) {
                case 0 -> (float) (r.nextGaussian() * 4);
                case 1 -> (float) (r.nextGaussian() * 30);
                case 2 -> -100f - r.nextFloat() * 50;
                case 3 -> (float) (r.nextGaussian() * 1e-3);
                default -> r.nextFloat() * 12;
            };
        }
        return a;
    }

    @Test
    void everyVariantGivesTheJavaBits() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        before = NativeExp.variant();
        Assumptions.assumeTrue(before > 0, "no AVX2 with FMA on this CPU: the Java loop runs");
        Random r = new Random(11);
        int checked = 0;
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int n = 1; n <= 70; n++) {
                for (int off : new int[] {0, 3}) {
                    float[] a = scores(off + n + 2, r);
                    float shift = a[off];
                    for (int i = off; i < off + n; i++) {
                        shift = Math.max(shift, a[i]);
                    }
                    float[] want = a.clone();
                    float[] got = a.clone();
                    float wantSum = VectorOps.expShiftedJava(want, off, n, shift);
                    float gotSum = NativeExp.expShifted(got, off, n, shift);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                "variant " + v + ", n " + n + ", offset " + off + ", element " + i + " (score "
                                        + a[i] + ")");
                    }
                    assertEquals(Float.floatToRawIntBits(wantSum), Float.floatToRawIntBits(gotSum),
                            "variant " + v + ", n " + n + ": sums " + wantSum + " and " + gotSum);
                    checked++;
                }
            }
        }
        assertEquals(before * 140, checked);
    }

    /**
     * The gated form ({@code act(gate) * up}, a gated MLP's activation) against the Java loops it replaces: the
     * activation in place on a copy of the gate half, then the product with the up half; every element bit for bit, on
     * every variant, lengths around the vector widths, offsets that are not multiples of them.
     */
    @Test
    void gatedSiluAndGeluOnEveryVariantGiveTheJavaBits() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        before = NativeExp.variant();
        Assumptions.assumeTrue(before > 0, "no AVX2 with FMA on this CPU: the Java loops run");
        Random r = new Random(17);
        int checked = 0;
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int n = NativeExp.MIN_LENGTH; n <= 90; n++) {
                // [3 values][gate: n][up: n][2 values]
                float[] src = scores(2 * n + 5, r);
                for (int what : new int[] {NativeExp.SILU, NativeExp.GELU_TANH}) {
                    float[] want = new float[n + 4];
                    float[] got = new float[n + 4];
                    System.arraycopy(src, 3, want, 1, n);
                    if (what == NativeExp.SILU) {
                        VectorOps.siluJava(want, 1, n);
                    } else {
                        VectorOps.geluTanhJava(want, 1, n);
                    }
                    VectorOps.multiply(want, 1, src, 3 + n, n);
                    assertEquals(true, NativeExp.tryActivateTimes(what, src, 3, 3 + n, got, 1, n));
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                (what == NativeExp.SILU ? "silu" : "gelu") + " times up, variant " + v + ", n " + n
                                        + ", element " + i + ": " + want[i] + " and " + got[i]);
                    }
                    checked++;
                }
            }
        }
        assertEquals(before * 2 * (91 - NativeExp.MIN_LENGTH), checked);
        assertEquals(false, NativeExp.tryActivateTimes(NativeExp.SILU, new float[8], 0, 4, new float[4], 0, 4),
                "shorter than MIN_LENGTH: the caller's Java loops");
    }

    @Test
    void siluAndGeluOnEveryVariantGiveTheJavaBits() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        before = NativeExp.variant();
        Assumptions.assumeTrue(before > 0, "no AVX2 with FMA on this CPU: the Java loops run");
        Random r = new Random(13);
        for (int v = 1; v <= before; v++) {
            assertEquals(v, NativeExp.selectVariant(v));
            for (int n = 1; n <= 70; n++) {
                float[] a = scores(n + 5, r);
                for (int what : new int[] {NativeExp.SILU, NativeExp.GELU_TANH}) {
                    float[] want = a.clone();
                    float[] got = a.clone();
                    if (what == NativeExp.SILU) {
                        VectorOps.siluJava(want, 2, n);
                    } else {
                        VectorOps.geluTanhJava(want, 2, n);
                    }
                    NativeExp.activate(what, got, 2, n);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                (what == NativeExp.SILU ? "silu" : "gelu") + ", variant " + v + ", n " + n
                                        + ", element " + i + " (" + a[i] + "): " + want[i] + " and " + got[i]);
                    }
                }
            }
        }
    }

    @Test
    void longRowsAsTheAttentionMakesThem() {
        Assumptions.assumeTrue(NativeExp.available(), "no native softmax here");
        Random r = new Random(12);
        for (int n : new int[] {32, 511, 4096}) {
            float[] a = scores(n, r);
            float shift = VectorOps.max(a, 0, n);
            float[] want = a.clone();
            float wantSum = VectorOps.expShiftedJava(want, 0, n, shift);
            float gotSum = VectorOps.expShifted(a, 0, n, shift);
            assertEquals(Float.floatToRawIntBits(wantSum), Float.floatToRawIntBits(gotSum), "sum of " + n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(a[i]), "element " + i);
            }
        }
    }
}
