package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.weights.NativeKernels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;

/**
 * The native attention tests' common part: they run their checks on every variant of the native exponentials and
 * attention this CPU has ({@link NativeExp#selectVariant}, up to the one chosen at load, which a test keeps in
 * {@link #before}) and restore that one after each test; they skip where the native attention does not run.
 */
abstract class NativeVariantTestBase {

    static final int HEAD_DIM = 64;
    static final int TILE = JavaKvCache.TILE;

    /** The variant chosen at load, once a test has read it; -1 before. */
    int before = -1;

    @AfterEach
    void restoreVariant() {
        if (before > 0) {
            NativeExp.selectVariant(before);
        }
    }

    static void assumeNative() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        Assumptions.assumeTrue(NativeAttention.applies(HEAD_DIM, TILE), "no AVX2 with FMA: the Java attention runs");
    }
}
