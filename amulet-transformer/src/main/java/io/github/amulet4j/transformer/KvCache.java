package io.github.amulet4j.transformer;


/**
 * Keys and values of every layer for a batch of left-padded streams, written in place at the next free slots; the
 * capacity grows by a quarter when a step needs more. All streams share the slot count {@link #used()} (shorter
 * streams are padded on the left). Implementations: {@link JavaKvCache} (Java arrays, for {@link JavaForward}) and
 * amulet-djl's engine cache; a forward pass makes and reads its own kind ({@link ForwardPass#newCache}).
 */
public interface KvCache extends AutoCloseable {

    /** Fewest slots a growing cache adds. */
    int MIN_GROWTH = 64;

    /** Slots written so far (padding included), the same for every row. */
    int used();

    /** Slots there is room for without growing. */
    int capacity();

    /** Rows (streams). */
    int batch();

    /**
     * Makes room for {@code extra} more slots: the capacity grows by a quarter (at least {@value #MIN_GROWTH} slots, and
     * at least to what is needed), so that a cache sized for a long prompt does not double on the first new token.
     */
    void reserve(int extra);

    /** Marks {@code t} more slots as used (after every layer wrote them). */
    void advance(int t);

    /**
     * Rebuilds the batch: new row {@code j} is old row {@code sources[j]}, and the first {@code shift} slots
     * (padding common to all new rows) are dropped.
     */
    void select(int[] sources, int shift);

    /**
     * Appends the rows of {@code other} (a cache of the same model and kind) below this cache's rows. The cache
     * with fewer used slots is padded on the left (with zeros) so that both end at the same slot; returns the padding
     * added to this cache's rows and to {@code other}'s rows, as {@code {mine, theirs}}. {@code other} is
     * left as it was (its owner closes it).
     */
    int[] absorb(KvCache other);

    /** Bytes the keys and values take at the present capacity. */
    long bytes();

    /**
     * Whether {@link #copyOut} and {@link #copyIn} work on this kind of cache (the {@link PromptCache} is used only
     * then). False unless an implementation says otherwise.
     */
    default boolean supportsRowCopy() {
        return false;
    }

    /**
     * A copy of the keys and values of row {@code row}, slots {@code [from, from + count)}, that outlives this cache
     * (for the {@link PromptCache}).
     *
     * @throws UnsupportedOperationException unless {@link #supportsRowCopy()}
     */
    default KvRows copyOut(int row, int from, int count) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot copy rows out");
    }

    /**
     * Writes the first {@code count} slots of {@code rows} (from {@link #copyOut} of a cache of the same kind and
     * model) into row {@code row} at slots {@code [at, at + count)}, which must lie within the capacity; does not
     * change {@link #used()}.
     *
     * @throws UnsupportedOperationException unless {@link #supportsRowCopy()}
     */
    default void copyIn(int row, int at, KvRows rows, int count) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot copy rows in");
    }

    /** Keys and values of consecutive slots of one row, copied out of a cache ({@link #copyOut}); immutable. */
    interface KvRows {

        /** Slots held. */
        int slots();

        /**
         * Whether the first {@code count} slots can be restored ({@link #copyIn}) and a pass continued after them:
         * every layer holds what the query at slot {@code count} sees. A cache whose sliding-window layers dropped
         * early slots copies out rows that restore only prefixes near their end; by default, any prefix.
         */
        default boolean restores(int count) {
            return count >= 0 && count <= slots();
        }

        /** Bytes held. */
        long bytes();
    }

    @Override
    void close();

    /** The capacity after {@link #reserve}: unchanged when {@code used + extra} fit. */
    static int grownCapacity(int used, int capacity, int extra) {
        int needed = Math.addExact(used, extra);
        if (needed <= capacity) {
            return capacity;
        }
        long grown = (long) capacity + Math.max(capacity / 4, MIN_GROWTH);
        return (int) Math.max(needed, Math.min(Integer.MAX_VALUE, grown));
    }
}
