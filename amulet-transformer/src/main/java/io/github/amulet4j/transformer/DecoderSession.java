package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.LongRope;
import io.github.amulet4j.transformer.KvCache;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A batch of streams of a {@link DecoderLm}: a left-padded KV cache of the model's {@link ForwardPass} (or, without a
 * cache, the token history that every step recomputes), and the last logits of every stream in a reused float array.
 *
 * <p>Longrope models (Phi-3) rotate a sequence of more than {@code original_max_position_embeddings} tokens with other
 * frequencies than a shorter one, at every position. When a step takes a stream across that length, the session runs
 * every stream's whole history again into a new cache (as transformers' Phi-3 generation drops its cache there), so
 * the logits equal those of a fresh pass over the whole sequence; that one step costs a prefill. Such a model's
 * prompt cache holds and serves only sequences that fit the original length.
 */
public final class DecoderSession implements DecodingSession {

    private final DecoderLm model;
    private final int vocab;
    private KvCache cache;
    /** Per stream: padding slots at the start of the cache. */
    private int[] pad;
    /** Per stream: all tokens so far (prompt and appended), {@code lengths[i]} of them valid. */
    private int[][] history;
    private int[] lengths;
    private float[] logits;
    private int streams;
    private boolean closed;
    /** The model's prefix cache, which streams leaving this session go to; null without one. */
    private PromptCache promptCache;
    /** Per stream: prompt tokens restored from the prompt cache. */
    private int[] reused;
    /**
     * Per stream: the leading positions whose keys and values a prefill computed (passes of two tokens or more, or a
     * restored prefix that one computed), not a decode step; only these go to the prompt cache. A decode step sums in
     * another order (split-slot attention past 512 slots, per-block kernels of the block formats), so an answer's
     * positions cached and restored would differ, by a few bits, from the prefill of the same tokens that a session
     * without the cache runs; they are prefilled again with the next turn instead.
     */
    private int[] prefilled;
    /** False once a forward pass failed (the cache may hold half-written slots: nothing goes to the prompt cache). */
    private boolean intact = true;
    /** Longrope's original length: a stream growing past it is recomputed whole ({@link #refill()}). */
    private final int ropeSwitch;

    DecoderSession(DecoderLm model, List<int[]> prompts) {
        this(model, prompts, null, null);
    }

    /**
     * A session over {@code prompts}; with {@code restored}, stream {@code i} starts from the first
     * {@code prefix[i]} slots of {@code restored[i]} and only the rest of its prompt runs. Every stream with a
     * restored prefix must then have the same number of tokens left to run, and the others must be no longer than
     * that (their prompts run whole, padded on the left).
     */
    private DecoderSession(DecoderLm model, List<int[]> prompts, KvCache.KvRows[] restored, int[] prefix) {
        this.model = model;
        this.vocab = model.vocabSize();
        this.ropeSwitch = LongRope.switchLength(model.config());
        this.streams = prompts.size();
        this.history = new int[streams][];
        this.lengths = new int[streams];
        int longest = 0;
        for (int i = 0; i < streams; i++) {
            int[] p = prompts.get(i);
            history[i] = Arrays.copyOf(p, Math.max(16, p.length * 2));
            lengths[i] = p.length;
            longest = Math.max(longest, p.length);
        }
        this.logits = new float[Math.multiplyExact(streams, vocab)];
        this.reused = new int[streams];
        this.prefilled = new int[streams];
        try {
            if (restored != null) {
                int rest = 0;
                int past = 0;
                for (int i = 0; i < streams; i++) {
                    if (prefix[i] > 0) {
                        rest = lengths[i] - prefix[i];
                        past = Math.max(past, prefix[i]);
                    }
                }
                int capacity = Math.max(model.settings().initialCacheCapacity(), past + rest);
                cache = model.newCache(streams, capacity);
                pad = new int[streams];
                int[][] batch = new int[streams][rest];
                for (int i = 0; i < streams; i++) {
                    pad[i] = past + rest - lengths[i];
                    if (prefix[i] > 0) {
                        cache.copyIn(i, pad[i], restored[i], prefix[i]);
                        System.arraycopy(history[i], prefix[i], batch[i], 0, rest);
                    } else {
                        System.arraycopy(history[i], 0, batch[i], pad[i] - past, lengths[i]);
                    }
                    reused[i] = prefix[i];
                    prefilled[i] = prefix[i]; // the prompt cache holds prefilled positions only
                }
                cache.advance(past);
                step(batch, pad, cache);
                markPrefilled(rest);
            } else if (model.settings().useKvCache()) {
                int capacity = Math.max(model.settings().initialCacheCapacity(), longest);
                cache = model.newCache(streams, capacity);
                pad = new int[streams];
                int[][] batch = new int[streams][longest];
                for (int i = 0; i < streams; i++) {
                    pad[i] = longest - lengths[i];
                    System.arraycopy(history[i], 0, batch[i], pad[i], lengths[i]);
                }
                step(batch, pad, cache);
                markPrefilled(longest);
            } else {
                recompute();
            }
        } catch (RuntimeException e) {
            intact = false;
            close();
            throw e;
        }
    }

    /**
     * Prefills {@code prompts} from the longest prefix of each that {@code promptCache} holds (at most all tokens
     * but the last {@link PromptCache#LEFT_TO_RUN}): streams are grouped by the tokens they have left to run, each group
     * runs as one batch, and the groups are joined in the order of {@code prompts}. A prompt without a cached prefix
     * runs whole; with no hit at all this is a plain prefill.
     */
    static DecoderSession withPromptCache(DecoderLm model, List<int[]> prompts, PromptCache promptCache) {
        int n = prompts.size();
        KvCache.KvRows[] rows = new KvCache.KvRows[n];
        int[] prefix = new int[n];
        // group key: tokens left to run for a hit, -1 for the streams that run whole
        java.util.Map<Integer, List<Integer>> groups = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int[] p = prompts.get(i);
            PromptCache.Match m = p.length <= PromptCache.LEFT_TO_RUN || p.length > LongRope.switchLength(model.config())
                    ? null : promptCache.longest(p, p.length - PromptCache.LEFT_TO_RUN);
            if (m != null) {
                rows[i] = m.rows();
                prefix[i] = m.length();
            }
            promptCache.record(prefix[i], p.length);
            groups.computeIfAbsent(prefix[i] > 0 ? p.length - prefix[i] : -1, k -> new java.util.ArrayList<>()).add(i);
        }
        List<Integer> misses = groups.get(-1);
        // streams that run whole join a group of hits when they fit in its tokens left to run (no extra pass)
        if (misses != null && groups.size() > 1) {
            int longestMiss = 0;
            for (int i : misses) {
                longestMiss = Math.max(longestMiss, prompts.get(i).length);
            }
            for (java.util.Map.Entry<Integer, List<Integer>> g : groups.entrySet()) {
                if (g.getKey() >= longestMiss) {
                    g.getValue().addAll(misses);
                    groups.remove(-1);
                    break;
                }
            }
        }
        List<DecoderSession> parts = new java.util.ArrayList<>();
        int[] order = new int[n];
        int at = 0;
        try {
            for (java.util.Map.Entry<Integer, List<Integer>> g : groups.entrySet()) {
                List<Integer> members = g.getValue();
                List<int[]> groupPrompts = new java.util.ArrayList<>();
                KvCache.KvRows[] groupRows = new KvCache.KvRows[members.size()];
                int[] groupPrefix = new int[members.size()];
                for (int j = 0; j < members.size(); j++) {
                    int i = members.get(j);
                    groupPrompts.add(prompts.get(i));
                    groupRows[j] = rows[i];
                    groupPrefix[j] = prefix[i];
                    order[at++] = i;
                }
                DecoderSession part = g.getKey() < 0 ? new DecoderSession(model, groupPrompts)
                        : new DecoderSession(model, groupPrompts, groupRows, groupPrefix);
                part.promptCache = promptCache;
                parts.add(part);
            }
            DecoderSession all = parts.get(0);
            for (int k = 1; k < parts.size(); k++) {
                all.absorb(parts.get(k));
            }
            parts.subList(1, parts.size()).clear();
            boolean inOrder = true;
            int[] sources = new int[n];
            for (int k = 0; k < n; k++) {
                sources[order[k]] = k;
                inOrder &= order[k] == k;
            }
            if (!inOrder) {
                all.select(sources);
            }
            return all;
        } catch (RuntimeException e) {
            for (DecoderSession part : parts) {
                part.intact = false;
                part.close();
            }
            throw e;
        }
    }

    @Override
    public int streams() {
        return streams;
    }

    @Override
    public Logits logits() {
        ensureOpen();
        return new Logits(logits, streams, vocab);
    }

    @Override
    public void append(int[] tokens) {
        ensureOpen();
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != streams) {
            throw new IllegalArgumentException("append needs one token per stream: got " + tokens.length
                    + " tokens for " + streams + " streams");
        }
        for (int i = 0; i < streams; i++) {
            model.checkStreamToken(tokens[i], i);
            if (lengths[i] + 1 > model.maxPositions()) {
                throw new IllegalArgumentException("stream " + i + " would exceed the model's " + model.maxPositions()
                        + " positions");
            }
        }
        if (streams == 0) {
            return;
        }
        for (int i = 0; i < streams; i++) {
            if (lengths[i] == history[i].length) {
                history[i] = Arrays.copyOf(history[i], history[i].length * 2);
            }
            history[i][lengths[i]++] = tokens[i];
        }
        if (cache != null && crossesRopeSwitch(1)) {
            refill();
        } else if (cache != null) {
            int[][] batch = new int[streams][1];
            for (int i = 0; i < streams; i++) {
                batch[i][0] = tokens[i];
            }
            step(batch, pad, cache);
        } else {
            recompute();
        }
    }

    @Override
    public void extend(int[][] tokens) {
        ensureOpen();
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != streams) {
            throw new IllegalArgumentException("extend needs one row per stream: got " + tokens.length
                    + " rows for " + streams + " streams");
        }
        if (streams == 0) {
            return;
        }
        int t = tokens[0].length;
        for (int i = 0; i < streams; i++) {
            if (tokens[i].length != t || t == 0) {
                throw new IllegalArgumentException("extend needs rows of one length >= 1, got " + tokens[i].length
                        + " tokens for stream " + i + " and " + t + " for stream 0");
            }
            for (int token : tokens[i]) {
                model.checkStreamToken(token, i);
            }
            if (lengths[i] + t > model.maxPositions()) {
                throw new IllegalArgumentException("stream " + i + " would exceed the model's " + model.maxPositions()
                        + " positions");
            }
        }
        for (int i = 0; i < streams; i++) {
            if (lengths[i] + t > history[i].length) {
                history[i] = Arrays.copyOf(history[i], Math.max(history[i].length * 2, lengths[i] + t));
            }
            System.arraycopy(tokens[i], 0, history[i], lengths[i], t);
            lengths[i] += t;
        }
        if (cache != null && crossesRopeSwitch(t)) {
            refill();
        } else if (cache != null) {
            step(tokens, pad, cache);
            markPrefilled(t);
        } else {
            recompute();
        }
    }

    @Override
    public void select(int[] sources) {
        ensureOpen();
        Objects.requireNonNull(sources, "sources");
        for (int s : sources) {
            if (s < 0 || s >= streams) {
                throw new IllegalArgumentException("select: source stream " + s + " outside [0, " + streams + ")");
            }
        }
        int n = sources.length;
        if (promptCache != null) {
            // streams dropped when their request ends go to the prompt cache; not those of a beam search that
            // copies some rows over others (beams share their prompt; its answer goes when the request ends)
            boolean[] kept = new boolean[streams];
            boolean copies = false;
            for (int src : sources) {
                copies |= kept[src];
                kept[src] = true;
            }
            for (int i = 0; i < streams && !copies; i++) {
                if (!kept[i]) {
                    offer(i);
                }
            }
        }
        int[] newReused = new int[n];
        int[] newPrefilled = new int[n];
        int[][] newHistory = new int[n][];
        int[] newLengths = new int[n];
        float[] newLogits = new float[Math.multiplyExact(Math.max(1, n), vocab)];
        for (int j = 0; j < n; j++) {
            int s = sources[j];
            newHistory[j] = history[s].clone();
            newLengths[j] = lengths[s];
            newReused[j] = reused[s];
            newPrefilled[j] = prefilled[s];
            System.arraycopy(logits, s * vocab, newLogits, j * vocab, vocab);
        }
        if (cache != null) {
            int[] newPad = new int[n];
            int shift = Integer.MAX_VALUE;
            for (int j = 0; j < n; j++) {
                newPad[j] = pad[sources[j]];
                shift = Math.min(shift, newPad[j]);
            }
            if (n == 0) {
                shift = 0;
            }
            for (int j = 0; j < n; j++) {
                newPad[j] -= shift;
            }
            cache.select(sources, shift);
            pad = newPad;
        }
        history = newHistory;
        lengths = newLengths;
        reused = newReused;
        prefilled = newPrefilled;
        logits = newLogits;
        streams = n;
    }

    @Override
    public void absorb(DecodingSession other) {
        ensureOpen();
        Objects.requireNonNull(other, "other");
        if (other == this || !(other instanceof DecoderSession o) || o.model != model) {
            throw new IllegalArgumentException("absorb needs another session of the same model, got " + other);
        }
        o.ensureOpen();
        int n = streams + o.streams;
        int[][] newHistory = Arrays.copyOf(history, n);
        int[] newLengths = Arrays.copyOf(lengths, n);
        int[] newReused = Arrays.copyOf(reused, n);
        System.arraycopy(o.reused, 0, newReused, streams, o.streams);
        int[] newPrefilled = Arrays.copyOf(prefilled, n);
        System.arraycopy(o.prefilled, 0, newPrefilled, streams, o.streams);
        float[] newLogits = new float[Math.max(1, n) * vocab];
        System.arraycopy(logits, 0, newLogits, 0, streams * vocab);
        System.arraycopy(o.logits, 0, newLogits, streams * vocab, o.streams * vocab);
        for (int j = 0; j < o.streams; j++) {
            newHistory[streams + j] = o.history[j];
            newLengths[streams + j] = o.lengths[j];
        }
        if (cache != null) {
            int[] extra = cache.absorb(o.cache);
            int[] newPad = new int[n];
            for (int i = 0; i < streams; i++) {
                newPad[i] = pad[i] + extra[0];
            }
            for (int j = 0; j < o.streams; j++) {
                newPad[streams + j] = o.pad[j] + extra[1];
            }
            pad = newPad;
        }
        history = newHistory;
        lengths = newLengths;
        reused = newReused;
        prefilled = newPrefilled;
        logits = newLogits;
        streams = n;
        o.promptCache = null; // its streams live on here
        o.close();
    }

    @Override
    public int length(int stream) {
        Objects.checkIndex(stream, streams);
        return lengths[stream];
    }

    /** Slots the cache holds now (padding included), or 0 without a cache; for tests and diagnostics. */
    public int cacheSlots() {
        return cache == null ? 0 : cache.used();
    }

    /** Slots the cache has room for now, or 0 without a cache; for tests and diagnostics. */
    public int cacheCapacity() {
        return cache == null ? 0 : cache.capacity();
    }

    /** Without a cache: one forward pass over every stream's whole history, left-padded. */
    private void recompute() {
        int longest = 0;
        for (int i = 0; i < streams; i++) {
            longest = Math.max(longest, lengths[i]);
        }
        int[][] batch = new int[streams][longest];
        int[] rowPad = new int[streams];
        for (int i = 0; i < streams; i++) {
            rowPad[i] = longest - lengths[i];
            System.arraycopy(history[i], 0, batch[i], rowPad[i], lengths[i]);
        }
        try (KvCache temporary = model.newCache(streams, longest)) {
            model.forward().run(batch, rowPad, temporary, model.settings().prefillChunk(), logits);
        }
    }

    /** Whether the {@code added} tokens just appended took a stream past longrope's original length. */
    private boolean crossesRopeSwitch(int added) {
        for (int i = 0; i < streams; i++) {
            if (lengths[i] > ropeSwitch && lengths[i] - added <= ropeSwitch) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every stream's whole history through a new cache (the old one closed): the keys of a stream that crossed
     * longrope's original length are then rotated with the long factors, as a fresh pass rotates them.
     */
    private void refill() {
        int longest = 0;
        for (int i = 0; i < streams; i++) {
            longest = Math.max(longest, lengths[i]);
        }
        KvCache old = cache;
        cache = null;
        old.close();
        cache = model.newCache(streams, Math.max(model.settings().initialCacheCapacity(), longest));
        int[][] batch = new int[streams][longest];
        pad = new int[streams];
        for (int i = 0; i < streams; i++) {
            pad[i] = longest - lengths[i];
            System.arraycopy(history[i], 0, batch[i], pad[i], lengths[i]);
        }
        step(batch, pad, cache);
        Arrays.fill(prefilled, 0); // every position ran again in this one prefill
        markPrefilled(longest);
    }

    /**
     * After a pass of {@code width} tokens a stream: with two or more (a prefill), a stream whose positions before
     * the pass were all prefilled has all its positions prefilled now. A one-token pass is a decode step and leaves
     * the count; so does a prefill after one (its keys attend to the decode step's).
     */
    private void markPrefilled(int width) {
        if (width < 2) {
            return;
        }
        for (int i = 0; i < streams; i++) {
            if (prefilled[i] >= lengths[i] - width) {
                prefilled[i] = lengths[i];
            }
        }
    }

    private void step(int[][] batch, int[] rowPad, KvCache target) {
        try {
            model.forward().run(batch, rowPad, target, model.settings().prefillChunk(), logits);
        } catch (RuntimeException | Error e) {
            intact = false;
            throw e;
        }
    }

    /**
     * Keeps the tokens and KV rows of {@code stream}'s prefilled positions in the prompt cache, if the session has
     * one (not the positions decode steps computed: see {@link #prefilled}).
     */
    private void offer(int stream) {
        if (promptCache == null || cache == null || !intact || prefilled[stream] == 0 || lengths[stream] > ropeSwitch) {
            return;
        }
        int[] tokens = Arrays.copyOf(history[stream], prefilled[stream]);
        int from = pad[stream];
        promptCache.offer(tokens, () -> cache.copyOut(stream, from, tokens.length));
    }

    @Override
    public int reusedPromptTokens(int stream) {
        Objects.checkIndex(stream, streams);
        return reused[stream];
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("decoding session is closed");
        }
        model.ensureOpen();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (promptCache != null && !model.isClosed()) {
                for (int i = 0; i < streams; i++) {
                    offer(i);
                }
            }
            if (cache != null) {
                cache.close();
            }
        }
    }
}
