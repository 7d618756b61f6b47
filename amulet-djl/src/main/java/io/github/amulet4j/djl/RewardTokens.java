package io.github.amulet4j.djl;

import java.util.Arrays;

/**
 * A conversation encoded for a {@link RewardModel} ({@link RewardModel#encode}): the tokens it reads, where ArmoRM's
 * gate reads, and whether the tokens were cut.
 *
 * @param ids       the tokens read, the score taken at the last
 * @param gate      ArmoRM: the position where the last assistant header starts (its gate reads there); -1 for a
 *                  {@code score} head
 * @param rendered  the number of tokens before any cut
 * @param truncated whether tokens were cut (the paper format's length, or the context with truncation on)
 */
public record RewardTokens(int[] ids, int gate, int rendered, boolean truncated) {

    /** Copies the ids. */
    public RewardTokens {
        ids = ids.clone();
        if (ids.length == 0) {
            throw new IllegalArgumentException("no tokens to score");
        }
        if (gate < -1 || gate >= ids.length) {
            throw new IllegalArgumentException("gate " + gate + " outside the " + ids.length + " tokens");
        }
    }

    /** The tokens read (a copy). */
    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** Number of tokens read. */
    public int length() {
        return ids.length;
    }

    int[] idsUnsafe() {
        return ids;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RewardTokens t && Arrays.equals(ids, t.ids) && gate == t.gate && rendered == t.rendered
                && truncated == t.truncated;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + gate;
    }

    @Override
    public String toString() {
        return "RewardTokens[" + ids.length + " ids, gate " + gate + ", rendered " + rendered
                + (truncated ? ", truncated" : "") + "]";
    }
}
