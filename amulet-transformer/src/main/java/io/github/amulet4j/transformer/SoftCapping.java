package io.github.amulet4j.transformer;

/**
 * Gemma 2's soft-capping, {@code x -> cap * tanh(x / cap)}: attention scores before the softmax
 * ({@code attn_logit_softcapping}) and the output logits ({@code final_logit_softcapping}) stay within
 * {@code (-cap, cap)}. The tanh is {@code VectorOps}' float one (the same bits in every JIT tier): {@code Math.tanh}
 * is a native call per value on JDK 17, and the final logits alone are 256,000 a token.
 */
public final class SoftCapping {

    private SoftCapping() {
    }

    /** Caps {@code a[off, off + len)} in place; a {@code cap} of 0 (none) leaves them as they are. */
    public static void apply(float[] a, int off, int len, float cap) {
        if (cap == 0f) {
            return;
        }
        VectorOps.softCap(a, off, len, cap);
    }
}
