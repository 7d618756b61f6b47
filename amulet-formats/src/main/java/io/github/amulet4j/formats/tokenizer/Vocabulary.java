package io.github.amulet4j.formats.tokenizer;

import java.util.Map;

/**
 * A tokenizer's vocabulary: the token string of each id and the id of each token string (the model's vocabulary and
 * its added tokens). Ids run from 0 to {@link #size()} - 1; an id may have no token.
 */
public interface Vocabulary {

    /** Number of ids: one more than the largest. */
    int size();

    /** The token string of {@code id}, or null when there is none (outside the ids included). */
    String token(int id);

    /** The id of {@code token}, or -1 when the vocabulary has none. */
    int id(String token);

    /**
     * The vocabulary of a token-to-id map (a {@code tokenizer.json}'s {@code model.vocab} and {@code added_tokens}):
     * {@code maxId + 1} ids, each id the token that the map gives it (one of them, where two tokens share an id). The
     * map is kept, not copied: the caller no longer changes it.
     *
     * @throws IllegalArgumentException for an id below 0 or above {@code maxId}
     */
    static Vocabulary of(Map<String, Integer> tokenToId, int maxId) {
        return new MapVocabulary(tokenToId, maxId);
    }
}
