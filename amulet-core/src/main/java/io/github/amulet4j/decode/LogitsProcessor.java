package io.github.amulet4j.decode;

/** One step of a sampler chain: rewrites a row of logits in place (e.g. masks tokens to {@code -inf}). */
@FunctionalInterface
public interface LogitsProcessor {

    /** Rewrites {@code logits[off .. off+vocab)} in place. */
    void process(float[] logits, int off, int vocab);
}
