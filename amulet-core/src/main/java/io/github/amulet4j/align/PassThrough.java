package io.github.amulet4j.align;

/**
 * No adjustment: one stream's logits as they are (the paper's {@code base} and {@code pref} methods).
 * Still checks the numerical rules (NaN/+inf, a row with every token masked).
 */
public final class PassThrough implements AlignmentStep {

    /** The base stream alone. */
    public static final PassThrough BASE = new PassThrough(false);
    /** The preference stream alone. */
    public static final PassThrough PREFERENCE = new PassThrough(true);

    private final boolean preference;

    private PassThrough(boolean preference) {
        this.preference = preference;
    }

    @Override
    public void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        String stream = preference ? PREFERENCE_STREAM : BASE_STREAM;
        float[] in = preference ? pref : base;
        int off = preference ? prefOff : baseOff;
        StepChecks.checkRange(stream, in, off, vocab);
        StepChecks.checkRange("output", out, outOff, vocab);
        boolean any = false;
        for (int i = 0; i < vocab; i++) {
            float v = in[off + i];
            StepChecks.checkValue(stream, v, i);
            any |= v != Float.NEGATIVE_INFINITY;
            out[outOff + i] = v;
        }
        if (!any) {
            throw StepChecks.allMasked(stream);
        }
    }

    @Override
    public boolean readsPreference() {
        return preference;
    }

    @Override
    public boolean readsBase() {
        return !preference;
    }

    @Override
    public String toString() {
        return preference ? "PassThrough[preference]" : "PassThrough[base]";
    }
}
