package io.github.amulet4j.decode;

import java.util.SplittableRandom;

/** The last step of a sampler chain: picks one token from a row of logits. */
@FunctionalInterface
public interface TokenPicker {

    /**
     * @param rng the request's random generator (unused by greedy pickers)
     * @return a token index in {@code [0, vocab)}
     */
    int pick(float[] logits, int off, int vocab, SplittableRandom rng);
}
