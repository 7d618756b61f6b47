package io.github.amulet4j.decode;

/**
 * A {@link HistoryProcessor} that needs no history and no state: rewrites a row of logits in place (e.g.
 * masks tokens to {@code -inf}). Temperature, top-k, top-p and min-p are ones.
 */
@FunctionalInterface
public interface LogitsProcessor extends HistoryProcessor {

    /** Rewrites {@code logits[off .. off+vocab)} in place. */
    void process(float[] logits, int off, int vocab);

    @Override
    default void process(TokenHistory history, float[] logits, int off, int vocab) {
        process(logits, off, vocab);
    }
}
