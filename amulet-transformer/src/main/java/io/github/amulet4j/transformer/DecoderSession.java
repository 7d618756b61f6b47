package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.KvCache;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A batch of streams of a {@link DecoderLm}: a left-padded KV cache of the model's {@link ForwardPass} (or, without a
 * cache, the token history that every step recomputes), and the last logits of every stream in a reused float array.
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

    DecoderSession(DecoderLm model, List<int[]> prompts) {
        this.model = model;
        this.vocab = model.vocabSize();
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
        try {
            if (model.settings().useKvCache()) {
                int capacity = Math.max(model.settings().initialCacheCapacity(), longest);
                cache = model.newCache(streams, capacity);
                pad = new int[streams];
                int[][] batch = new int[streams][longest];
                for (int i = 0; i < streams; i++) {
                    pad[i] = longest - lengths[i];
                    System.arraycopy(history[i], 0, batch[i], pad[i], lengths[i]);
                }
                step(batch, pad, cache);
            } else {
                recompute();
            }
        } catch (RuntimeException e) {
            close();
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
            model.checkToken(tokens[i], "token for stream " + i);
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
        if (cache != null) {
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
                model.checkToken(token, "token for stream " + i);
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
        if (cache != null) {
            step(tokens, pad, cache);
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
        int[][] newHistory = new int[n][];
        int[] newLengths = new int[n];
        float[] newLogits = new float[Math.multiplyExact(Math.max(1, n), vocab)];
        for (int j = 0; j < n; j++) {
            int s = sources[j];
            newHistory[j] = history[s].clone();
            newLengths[j] = lengths[s];
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
        logits = newLogits;
        streams = n;
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

    private void step(int[][] batch, int[] rowPad, KvCache target) {
        model.forward().run(batch, rowPad, target, model.settings().prefillChunk(), logits);
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
            if (cache != null) {
                cache.close();
            }
        }
    }
}
