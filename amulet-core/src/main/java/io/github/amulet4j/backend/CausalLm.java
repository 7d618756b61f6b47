package io.github.amulet4j.backend;

import java.util.List;

/**
 * A causal language model as the generation loop sees it: a batch of token streams in, the
 * last-position logits of every stream out. A backend (DJL, a test table model, anything) implements
 * this and nothing else; the loop never sees tensors, devices or files.
 *
 * <p>Implementations are not required to be thread-safe; one {@link DecodingSession} is driven by one
 * thread at a time.
 */
public interface CausalLm extends AutoCloseable {

    /** Number of logits per position (may exceed the tokenizer's vocabulary when the embedding is padded). */
    int vocabSize();

    /** Longest sequence (prompt plus generated tokens) the model accepts, or {@code Integer.MAX_VALUE}. */
    int maxPositions();

    /**
     * Runs one batched forward pass over the prompts (the backend pads them as it needs) and returns a
     * session holding one cache per prompt. Stream {@code i} of the session is {@code prompts.get(i)}.
     *
     * @throws IllegalArgumentException if a prompt is empty or longer than {@link #maxPositions()}
     */
    DecodingSession prefill(List<int[]> prompts);

    /**
     * How many of the first tokens of {@code prompt} a {@link #prefill} would now restore from a prefix cache
     * instead of running them (0 without one), at most {@code prompt.length - 1}; a hint for callers that prefill
     * long prompts in chunks.
     */
    default int cachedPrefix(int[] prompt) {
        return 0;
    }

    /** Releases native resources; further calls fail. */
    @Override
    void close();
}
