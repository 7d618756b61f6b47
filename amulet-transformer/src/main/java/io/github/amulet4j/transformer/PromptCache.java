package io.github.amulet4j.transformer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * KV rows of token sequences that a {@link DecoderLm} ran before, kept so that a later prompt sharing a prefix with
 * one of them prefills only the rest: the prefix cache behind every session of the model.
 *
 * <p>An entry is one stream's prefilled tokens (its prompt: not the tokens decode steps generated after it, whose
 * keys and values sum in another order than a prefill of the same tokens) with the keys and values of every layer
 * for them, copied out of a session's {@link KvCache} when the stream leaves it
 * ({@link KvCache#copyOut}). Entries are keyed by tokens only: nothing about requests, preferences or messages, so a
 * base stream is shared by every preference, two users with the same system prompt share it, and a re-rendered
 * history reuses everything up to the first token that differs. Keys and values are stored at the positions they
 * were computed at ({@code 0 .. n-1}) and a restored prefix is written back at the same positions, so a hit gives
 * the logits of a fresh prefill (the same float computations on the same inputs). A model with sliding-window layers
 * copies out only what those layers still held (the window and a margin before the end): such an entry serves only
 * prefixes near its end ({@link KvCache.KvRows#restores}); a shorter match falls back to a prefill.
 *
 * <p>Memory is bounded: the entries together never hold more than {@link #budgetBytes()}; adding one evicts whole
 * entries, least recently used first, and an entry larger than the whole budget is not kept. An entry whose tokens
 * are a prefix of a newer, longer entry's is dropped (the newer one answers every lookup it would), and so is one
 * that differs from it only in a short tail (the previous turn of a conversation, whose answer came back
 * re-tokenized: {@link #supersedes}); a sequence that an entry already covers is not copied again.
 *
 * <p>Thread-safe (every method is synchronized): a model's sessions run on one thread, but statistics are read from
 * others ({@code /health}).
 */
public final class PromptCache {

    private static final Logger LOG = LoggerFactory.getLogger(PromptCache.class);

    /**
     * Tokens of a prompt that a hit leaves to run, at least: the last one's logits are needed, and a pass of one token
     * takes a decode step's attention (split over ranges of slots in a long history), whose sums differ from a
     * prefill's; with two, a hit's logits are the bits of a fresh prefill.
     */
    public static final int LEFT_TO_RUN = 2;

    private final long budgetBytes;
    /** Least recently used first. */
    private final List<Entry> entries = new ArrayList<>();
    private long bytesHeld;
    private long lookups;
    private long hits;
    private long tokensReused;
    private long tokensPrefilled;
    private long evictions;

    /**
     * A cache that holds at most {@code budgetBytes}.
     *
     * @throws IllegalArgumentException if {@code budgetBytes} is not positive
     */
    public PromptCache(long budgetBytes) {
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("budgetBytes must be > 0 (a budget of 0 means no prompt cache), got "
                    + budgetBytes);
        }
        this.budgetBytes = budgetBytes;
    }

    /** The most bytes the entries may hold together. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** A cached sequence's first {@code length} tokens, which a prompt starts with. */
    public record Match(KvCache.KvRows rows, int length) {
    }

    /**
     * The longest prefix of {@code tokens}, at most {@code limit} tokens, that an entry holds, or null; the entry
     * becomes the most recently used. Does not count in the statistics ({@link #record}).
     */
    public synchronized Match longest(int[] tokens, int limit) {
        Entry best = null;
        int bestLength = 0;
        for (Entry e : entries) {
            int n = commonPrefix(e.tokens, tokens, Math.min(limit, e.tokens.length));
            if (n > bestLength && e.rows.restores(n)) {
                best = e;
                bestLength = n;
            }
        }
        if (best == null) {
            return null;
        }
        entries.remove(best);
        entries.add(best);
        return new Match(best.rows, bestLength);
    }

    /** Counts one prompt of {@code promptTokens} tokens of which {@code reused} came from this cache. */
    public synchronized void record(int reused, int promptTokens) {
        lookups++;
        if (reused > 0) {
            hits++;
        }
        tokensReused += reused;
        tokensPrefilled += promptTokens - reused;
    }

    /**
     * Keeps the KV rows of {@code tokens} unless an entry already starts with all of them; {@code copy} is called
     * only when the entry is kept. Entries whose tokens are a prefix of {@code tokens} are dropped, then the least
     * recently used ones until the budget holds the new entry.
     */
    public synchronized void offer(int[] tokens, Supplier<KvCache.KvRows> copy) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            return;
        }
        for (Entry e : entries) {
            if (e.tokens.length >= tokens.length && commonPrefix(e.tokens, tokens, tokens.length) == tokens.length
                    && e.rows.restores(tokens.length)) {
                entries.remove(e);
                entries.add(e);
                return;
            }
        }
        KvCache.KvRows rows = copy.get();
        Entry fresh = new Entry(tokens.clone(), rows, rows.bytes() + 4L * tokens.length);
        if (fresh.bytes > budgetBytes) {
            LOG.debug("prompt cache: {} tokens take {} bytes, more than the budget of {}: not kept", tokens.length,
                    fresh.bytes, budgetBytes);
            return;
        }
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (supersedes(tokens, e.tokens) && rows.restores(commonPrefix(e.tokens, tokens, e.tokens.length))) {
                it.remove();
                bytesHeld -= e.bytes;
            }
        }
        while (bytesHeld + fresh.bytes > budgetBytes && !entries.isEmpty()) {
            Entry old = entries.remove(0);
            bytesHeld -= old.bytes;
            evictions++;
            LOG.debug("prompt cache: evicted an entry of {} tokens ({} bytes)", old.tokens.length, old.bytes);
        }
        entries.add(fresh);
        bytesHeld += fresh.bytes;
    }

    /** Drops every entry (statistics stay). */
    public synchronized void clear() {
        entries.clear();
        bytesHeld = 0;
    }

    /** What the cache did so far and holds now. */
    public synchronized Stats stats() {
        return new Stats(lookups, hits, tokensReused, tokensPrefilled, entries.size(), bytesHeld, budgetBytes,
                evictions);
    }

    /**
     * Counters of a {@link PromptCache}.
     *
     * @param lookups         prompts prefilled while the cache was on (one per stream)
     * @param hits            prompts that reused at least one cached token
     * @param tokensReused    prompt tokens restored from the cache instead of prefilled
     * @param tokensPrefilled prompt tokens that went through the model
     * @param entries         sequences held now
     * @param bytesHeld       bytes the entries hold now (keys, values and tokens)
     * @param budgetBytes     the most they may hold
     * @param evictions       entries dropped to stay within the budget
     */
    public record Stats(long lookups, long hits, long tokensReused, long tokensPrefilled, int entries, long bytesHeld,
            long budgetBytes, long evictions) {
    }

    /**
     * Whether a new entry of {@code fresh} tokens makes the entry of {@code old} tokens useless: {@code old} is a
     * prefix of {@code fresh}, or differs from it only in a short tail (at most a quarter of its length):
     * the previous turn of the same conversation, whose answer the chat template rendered back differently. Entries
     * that share only a system prompt with {@code fresh} stay.
     */
    static boolean supersedes(int[] fresh, int[] old) {
        int shared = commonPrefix(old, fresh, old.length);
        return shared == old.length || (fresh.length > old.length && old.length - shared <= old.length / 4);
    }

    private static int commonPrefix(int[] a, int[] b, int limit) {
        int n = Math.min(limit, Math.min(a.length, b.length));
        int mismatch = java.util.Arrays.mismatch(a, 0, n, b, 0, n);
        return mismatch < 0 ? n : mismatch;
    }

    private record Entry(int[] tokens, KvCache.KvRows rows, long bytes) {
    }
}
