package io.github.amulet4j.decode;

/**
 * One link of the decoding chain of a request (Hugging Face's {@code LogitsProcessor}, llama.cpp's sampler):
 * rewrites a row of logits in place, seeing the tokens so far. The generator gives each request its own
 * {@link #copy()} of the processors of its {@code GenerationConfig}, and beam search one copy per beam, so
 * a processor with state (a grammar, a counter) keeps it in its fields, updated by {@link #accept(int)}.
 *
 * <p>Where it runs (see {@code GenerationConfig.Builder#processorBeforeStep} and
 * {@code #processorAfterStep}): before the Amulet step, on each stream's logits with that stream's history
 * (bans, grammars, repetition penalties); or after it, on the adjusted row, with the history of the
 * preference stream (or the base stream when the method reads only that one). Masking a token to
 * {@code -inf} before the step removes it: masks survive the step. Producing NaN or {@code +inf} is an error
 * the generator reports.
 */
public interface HistoryProcessor {

    /** Rewrites {@code logits[off .. off+vocab)} in place. */
    void process(TokenHistory history, float[] logits, int off, int vocab);

    /** The token chosen for the request (after every {@link #process} of the step). Default: nothing. */
    default void accept(int token) {
    }

    /**
     * A processor with this one's state for another request or beam; stateless processors return
     * {@code this} (the default). Stateful processors must override it.
     */
    default HistoryProcessor copy() {
        return this;
    }
}
