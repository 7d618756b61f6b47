package io.github.amulet4j.align;

/** Shared input checks and small numerical helpers of the steps (package-private). */
final class StepChecks {

    private StepChecks() {
    }

    static int vocabOf(AlignmentStep step, float[] pref, float[] base) {
        if (step.readsPreference() && pref == null) {
            throw new IllegalArgumentException("preference logits are required by " + step);
        }
        if (step.readsBase() && base == null) {
            throw new IllegalArgumentException("base logits are required by " + step);
        }
        if (step.readsPreference() && step.readsBase() && pref.length != base.length) {
            throw new IllegalArgumentException("vocabulary sizes differ: preference stream has " + pref.length
                    + " logits, base stream has " + base.length);
        }
        int vocab = step.readsPreference() ? pref.length : base.length;
        if (vocab == 0) {
            throw new IllegalArgumentException("logits rows are empty");
        }
        return vocab;
    }

    static void checkRange(String name, float[] a, int off, int vocab) {
        if (a == null) {
            throw new IllegalArgumentException(name + " logits are required but null");
        }
        if (vocab <= 0) {
            throw new IllegalArgumentException("vocab must be > 0, got " + vocab);
        }
        if (off < 0 || (long) off + vocab > a.length) {
            throw new IllegalArgumentException(name + " logits: offset " + off + " + vocab " + vocab
                    + " exceeds array length " + a.length);
        }
    }

    /** Throws if {@code v} is NaN or +inf. */
    static void checkValue(String stream, float v, int token) {
        if (v != v) {
            throw new LogitsException(stream, token, "NaN");
        }
        if (v == Float.POSITIVE_INFINITY) {
            throw new LogitsException(stream, token, "+inf");
        }
    }

    static LogitsException allMasked(String streams) {
        return new LogitsException(streams, -1, "every token is masked (-inf)");
    }
}
