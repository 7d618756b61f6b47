package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.backend.TextTokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one decoding thread owns the model and runs one batched forward pass per step for
 * every live stream; requests from any thread join the running batch between two steps and leave it as
 * soon as they finish, each with its own method, preference prompt and sampling settings (two streams
 * for {@code amulet} and {@code la}, one for {@code base} and {@code pref}, {@code numBeams} for
 * {@code beam}). Newcomers are prefilled together in a session of their own, which the running session
 * then {@linkplain DecodingSession#absorb absorbs}; so N concurrent users share each forward pass. A prompt
 * longer than {@link BatchingOptions#prefillTokensPerStep()} is prefilled in chunks of that many tokens
 * ({@link DecodingSession#extend}), one chunk between two decoding steps, so a newcomer never stalls the
 * running requests for more than one chunk.
 *
 * <p>{@link #submit} returns a future; cancelling it frees the request's streams at the next step. Tokens
 * reach the request's {@link TokenListener} on the decoding thread (request index 0): keep it quick, hand
 * slow work (network writes) to another thread. A request's tokens are the same as
 * {@link Generator#generate(GenerationRequest)} gives it alone, up to the backend's float rounding in a
 * padded batch. Needs a backend whose sessions support {@link DecodingSession#absorb}.
 *
 * <p>Thread-safe. While a batcher runs, nothing else may use its {@link CausalLm}.
 */
public final class ContinuousBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ContinuousBatcher.class);

    private final CausalLm lm;
    private final TextTokenizer tokenizer;
    private final GenerationConfig defaults;
    private final BatchingOptions options;
    private final Set<Integer> modelEos;
    private final int vocab;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean closed;

    /** Touched only by the decoding thread. */
    private final List<Slot> live = new ArrayList<>();
    private DecodingSession session;
    private final float[] scratch;
    private final IntList sources = new IntList();
    private final IntList tokens = new IntList();
    /** The request whose long prompt is being prefilled chunk by chunk, if any. */
    private ChunkedPrefill job;
    /** Streams the live requests may grow to (a beam search's {@code numBeams} from its first step). */
    private int reservedStreams;

    /** Streams of the requests in {@link #queue}; guarded by {@link #lock}. */
    private int queuedStreams;
    /** {@link #reservedStreams} as other threads see it (admission checks). */
    private volatile int reservedVolatile;
    private volatile int liveRequests;
    private volatile int liveStreams;
    private volatile long steps;
    private final Thread loop;

    /**
     * Starts the decoding thread.
     *
     * @param lm               the model (owned by this batcher until {@link #close()}; not closed by it)
     * @param tokenizer        its tokenizer
     * @param defaults         configuration of requests that bring none
     * @param options          batch and queue limits
     * @param modelEosTokenIds the model's end-of-sequence ids
     */
    public ContinuousBatcher(CausalLm lm, TextTokenizer tokenizer, GenerationConfig defaults, BatchingOptions options,
            int... modelEosTokenIds) {
        this.lm = Objects.requireNonNull(lm, "lm");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.options = Objects.requireNonNull(options, "options");
        this.modelEos = RequestChecks.eosSet(modelEosTokenIds);
        this.vocab = RequestChecks.vocabulary(lm, tokenizer);
        this.scratch = new float[vocab];
        this.loop = new Thread(this::run, "amulet-batcher");
        loop.setDaemon(true);
        loop.start();
    }

    public BatchingOptions options() {
        return options;
    }

    public GenerationConfig defaults() {
        return defaults;
    }

    /** Requests decoding now. */
    public int runningRequests() {
        return liveRequests;
    }

    /** Streams decoding now (at most {@link BatchingOptions#maxBatchStreams()}). */
    public int runningStreams() {
        return liveStreams;
    }

    /** Requests waiting to join the batch. */
    public int queuedRequests() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Decoding steps (batched forward passes after a prefill) run so far. */
    public long steps() {
        return steps;
    }

    /** Number of streams {@code config}'s method decodes. */
    public static int streamsOf(GenerationConfig config) {
        AlignmentMethod m = config.method();
        if (m == AlignmentMethod.BEAM) {
            return config.numBeams();
        }
        return (m.needsBase() ? 1 : 0) + (m.needsPreference() ? 1 : 0);
    }

    /**
     * Queues a request; it joins the batch at the next step with room for its streams. Cancel the future
     * to stop it (its streams leave at the next step; no more tokens are reported). A bad request fails
     * exactly as {@link Generator#generate(GenerationRequest)} fails it; only the stream limit is the batcher's own.
     *
     * @throws IllegalArgumentException    if the request lacks a prompt its method needs, holds an id outside
     *                                     the vocabulary, or its method needs more streams than {@code maxBatchStreams}
     * @throws PromptTooLongException      if a prompt is longer than the model's positions
     * @throws QueueFullException          if {@code maxQueue} requests are waiting already
     * @throws RejectedExecutionException  if the batcher is closed
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        RequestChecks.Checked checked = RequestChecks.check(request, -1, defaults, lm);
        int streams = streamsOf(checked.config());
        if (streams > options.maxBatchStreams()) {
            throw new IllegalArgumentException("method '" + checked.config().method().id() + "' needs " + streams
                    + " streams, more than the batch holds (" + options.maxBatchStreams() + ")");
        }
        Pending p = new Pending(checked, streams, listener);
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("the batcher is closed");
            }
            if (!admits(streams)) {
                throw new QueueFullException(options.maxQueue());
            }
            queue.add(p);
            queuedStreams += p.streams;
            arrived.signal();
        } finally {
            lock.unlock();
        }
        // a request cancelled while it waits leaves the queue at once (it no longer counts toward maxQueue)
        p.future.whenComplete((r, e) -> {
            if (p.future.isCancelled()) {
                dequeue(p);
            }
        });
        return p.future;
    }

    /**
     * Whether a request of {@code streams} streams may queue now: when it fits into the batch's free room
     * beside every request already waiting (it joins at the next step and does not wait), or when fewer than
     * {@code maxQueue} requests wait. So {@code maxQueue} 0 means no waiting room, not "refuse everything".
     * Caller holds {@link #lock}.
     */
    private boolean admits(int streams) {
        if (reservedVolatile + queuedStreams + streams <= options.maxBatchStreams()) {
            return true;
        }
        int waiting = 0;
        int room = options.maxBatchStreams() - reservedVolatile;
        for (Pending q : queue) { // the requests that will not fit either
            room -= q.streams;
            if (room < 0) {
                waiting++;
            }
        }
        return waiting < options.maxQueue();
    }

    /**
     * Throws a {@link QueueFullException} when a request of one stream would be refused now: a cheap check a
     * caller runs before the costly work of building a request (rendering and tokenizing its prompts).
     * {@link #submit} checks again.
     *
     * @throws QueueFullException         if the queue is full
     * @throws RejectedExecutionException if the batcher is closed
     */
    public void checkAdmission() {
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("the batcher is closed");
            }
            if (!admits(1)) {
                throw new QueueFullException(options.maxQueue());
            }
        } finally {
            lock.unlock();
        }
    }

    private void dequeue(Pending p) {
        lock.lock();
        try {
            if (queue.remove(p)) {
                queuedStreams -= p.streams;
            }
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        try {
            while (true) {
                if (job == null) {
                    List<Pending> newcomers = takeNewcomers();
                    if (newcomers == null) {
                        break;
                    }
                    if (newcomers.size() == 1 && newcomers.get(0).promptTokens > options.prefillTokensPerStep()) {
                        startChunkedPrefill(newcomers.get(0));
                    } else if (!newcomers.isEmpty()) {
                        admit(newcomers);
                    }
                } else if (isClosed()) {
                    break;
                }
                if (job != null) {
                    continueChunkedPrefill();
                }
                if (!live.isEmpty()) {
                    step();
                }
                liveRequests = live.size();
            }
        } catch (RuntimeException | Error e) {
            LOG.error("the decoding loop stopped", e);
            failAll(e);
            throw e;
        } finally {
            lock.lock();
            try {
                closed = true;
            } finally {
                lock.unlock();
            }
            closeSession();
            if (job != null) {
                job.close();
                job.slot.pending.future.completeExceptionally(new CancellationException("the batcher is closed"));
                job = null;
            }
            failAll(new CancellationException("the batcher is closed"));
        }
    }

    private void retire(Slot s) {
        s.gone = true;
        reserve(-s.pending.streams);
    }

    private void reserve(int streams) {
        reservedStreams += streams;
        reservedVolatile = reservedStreams;
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The requests that join before the next step; waits while nothing runs; null once closed. */
    private List<Pending> takeNewcomers() {
        List<Pending> out = new ArrayList<>();
        int room = options.maxBatchStreams() - reservedStreams;
        int prefill = 0;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    return null;
                }
                while (!queue.isEmpty()) {
                    Pending p = queue.peek();
                    if (p.future.isDone()) { // cancelled while waiting
                        queue.poll();
                        queuedStreams -= p.streams;
                        continue;
                    }
                    if (p.streams > room || (!out.isEmpty() && prefill + p.promptTokens > options.prefillTokensPerStep())) {
                        break;
                    }
                    queue.poll();
                    queuedStreams -= p.streams;
                    out.add(p);
                    room -= p.streams;
                    prefill += p.promptTokens;
                }
                if (!out.isEmpty() || !live.isEmpty()) {
                    // taken streams count as reserved from now on (admission checks), before their prefill
                    reservedVolatile = options.maxBatchStreams() - room;
                    return out;
                }
                arrived.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The progress of a request, before its first step. */
    private RequestState newState(Pending p) {
        Set<Integer> eos = new HashSet<>(modelEos);
        eos.addAll(p.config.eosTokenIds());
        TextTracker text = new TextTracker(tokenizer, p.config.stopStrings());
        TokenListener guarded = guard(p);
        RequestState st = p.config.method() == AlignmentMethod.BEAM
                ? new BeamSearchRequest(0, p.config, eos, guarded, p.prompts, text, scratch)
                : new TokenByTokenRequest(0, p.config, eos, guarded, p.prompts, text, scratch);
        st.rows = new int[p.prompts.size()];
        st.startedAt = p.submittedAt;
        return st;
    }

    /** Prefills the newcomers in one session and moves their streams into the running one. */
    private void admit(List<Pending> newcomers) {
        List<int[]> prompts = new ArrayList<>();
        List<Slot> slots = new ArrayList<>();
        for (Pending p : newcomers) {
            RequestState st = newState(p);
            for (int s = 0; s < st.rows.length; s++) {
                st.rows[s] = prompts.size();
                prompts.add(p.prompts.get(s));
            }
            slots.add(new Slot(p, st));
        }
        long t0 = System.nanoTime();
        DecodingSession fresh;
        try {
            fresh = lm.prefill(prompts);
        } catch (RuntimeException | Error e) { // an Error (out of memory) fails these requests, not the loop
            LOG.warn("prefill of {} requests failed", newcomers.size(), e);
            reservedVolatile = reservedStreams;
            for (Pending p : newcomers) {
                p.future.completeExceptionally(e);
            }
            return;
        }
        for (Slot s : slots) {
            reserve(s.pending.streams);
        }
        join(fresh, slots, System.nanoTime() - t0);
    }

    /** Moves the streams of a prefilled session into the running one; its requests decode from the next step. */
    private void join(DecodingSession fresh, List<Slot> slots, long prefillNanos) {
        for (Slot s : slots) {
            s.state.countReused(fresh);
        }
        int offset = 0;
        try {
            if (session == null) {
                session = fresh;
            } else {
                offset = session.streams();
                session.absorb(fresh);
            }
        } catch (RuntimeException e) {
            fresh.close();
            throw e;
        }
        long decodeStart = System.nanoTime();
        for (Slot s : slots) {
            for (int r = 0; r < s.state.rows.length; r++) {
                s.state.rows[r] += offset;
            }
            s.state.prefillNanos = prefillNanos;
            s.state.decodeStart = decodeStart;
            live.add(s);
        }
        liveStreams = session.streams();
        LOG.debug("{} requests ({} streams) joined after a prefill of {} ms; {} requests decoding", slots.size(),
                fresh.streams(), prefillNanos / 1_000_000, live.size());
    }

    private void startChunkedPrefill(Pending p) {
        RequestState st = newState(p);
        for (int s = 0; s < st.rows.length; s++) {
            st.rows[s] = s;
        }
        job = new ChunkedPrefill(new Slot(p, st));
        reserve(p.streams);
    }

    /** One chunk of the long prompt being prefilled; when it is done, its request joins the batch. */
    private void continueChunkedPrefill() {
        ChunkedPrefill j = job;
        if (j.slot.pending.future.isDone()) { // cancelled while prefilling
            j.close();
            reserve(-(j.slot.pending.streams));
            job = null;
            return;
        }
        long t0 = System.nanoTime();
        boolean done;
        try {
            done = j.advance(options.prefillTokensPerStep());
        } catch (RuntimeException | Error e) {
            LOG.warn("chunked prefill failed", e);
            j.close();
            reserve(-(j.slot.pending.streams));
            j.slot.pending.future.completeExceptionally(e);
            job = null;
            return;
        }
        j.nanos += System.nanoTime() - t0;
        if (done) {
            job = null;
            DecodingSession fresh = j.sessions.get(0);
            for (int s = 1; s < j.sessions.size(); s++) {
                fresh.absorb(j.sessions.get(s));
            }
            join(fresh, List.of(j.slot), j.nanos);
        }
    }

    /** One decoding step: every live request picks its token(s), finished ones leave, one forward pass. */
    private void step() {
        Logits logits = session.logits();
        if (logits.rows() != session.streams() || logits.vocab() < vocab) {
            throw new IllegalStateException("backend returned logits [" + logits.rows() + ", " + logits.vocab()
                    + "] for " + session.streams() + " streams and a vocabulary of " + vocab);
        }
        sources.clear();
        tokens.clear();
        for (Slot s : live) {
            if (s.pending.future.isDone()) { // cancelled: contributes no stream
                retire(s);
                continue;
            }
            int mark = sources.size();
            try {
                s.state.advance(logits, session, s.step++, vocab, lm.maxPositions(), sources, tokens);
                s.state.stepped();
            } catch (RuntimeException | Error e) { // an Error (a listener's, a stack overflow) fails only its request
                sources.truncate(mark);
                tokens.truncate(mark);
                retire(s);
                s.pending.future.completeExceptionally(e);
                continue;
            }
            if (s.state.finished()) {
                retire(s); // its room is free before its caller hears of the result
                s.pending.future.complete(s.state.result);
            }
        }
        live.removeIf(s -> s.gone);
        if (live.isEmpty()) {
            closeSession();
            liveStreams = 0;
            return;
        }
        try {
            if (!sources.isIdentity(session.streams())) {
                session.select(sources.toArray());
            }
            liveStreams = session.streams();
            long f0 = System.nanoTime();
            session.append(tokens.toArray());
            long forward = System.nanoTime() - f0;
            for (Slot s : live) {
                s.state.forwardPass(forward);
            }
            steps++;
        } catch (RuntimeException | Error e) {
            LOG.error("decoding step failed; failing the {} running requests", live.size(), e);
            for (Slot s : live) {
                s.pending.future.completeExceptionally(e);
            }
            live.clear();
            reservedStreams = 0;
        reservedVolatile = 0;
            closeSession();
            liveStreams = 0;
        }
    }

    /** A listener that reports nothing once the request is cancelled and cancels it if it throws. */
    private static TokenListener guard(Pending p) {
        return new TokenListener() {
            @Override
            public void onToken(int request, int tokenId, String textDelta) {
                if (p.future.isDone()) {
                    return;
                }
                try {
                    p.listener.onToken(request, tokenId, textDelta);
                } catch (RuntimeException | Error e) {
                    LOG.warn("token listener failed; cancelling its request", e);
                    p.future.cancel(false);
                }
            }

            @Override
            public void onFinish(int request, GenerationResult result) {
                if (p.future.isDone()) {
                    return;
                }
                try {
                    p.listener.onFinish(request, result);
                } catch (RuntimeException | Error e) {
                    LOG.warn("token listener failed on finish", e);
                }
            }
        };
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the decoding session failed", e);
            }
            session = null;
        }
    }

    private void failAll(Throwable cause) {
        for (Slot s : live) {
            s.pending.future.completeExceptionally(cause);
        }
        live.clear();
        reservedStreams = 0;
        reservedVolatile = 0;
        liveRequests = 0;
        liveStreams = 0;
        List<Pending> waiting;
        lock.lock();
        try {
            waiting = new ArrayList<>(queue);
            queue.clear();
            queuedStreams = 0;
        } finally {
            lock.unlock();
        }
        for (Pending p : waiting) {
            p.future.completeExceptionally(cause);
        }
    }


    /**
     * Stops the decoding thread after its current step; running and waiting requests fail with a
     * {@link CancellationException}. The model is not closed.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != loop) {
            try {
                loop.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A request waiting to join. */
    private static final class Pending {
        final GenerationConfig config;
        final List<int[]> prompts;
        final int promptTokens;
        final int streams;
        final TokenListener listener;
        final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
        /** When {@link #submit} was called: the start of the request's time to first token. */
        final long submittedAt = System.nanoTime();

        Pending(RequestChecks.Checked checked, int streams, TokenListener listener) {
            this.config = checked.config();
            this.prompts = checked.prompts();
            this.promptTokens = checked.promptTokens();
            this.streams = streams;
            this.listener = listener;
        }
    }

    /**
     * A request whose prompt is longer than {@link BatchingOptions#prefillTokensPerStep()}: each prompt stream
     * is prefilled in a session of its own, one chunk between two decoding steps.
     */
    private final class ChunkedPrefill {
        final Slot slot;
        final List<DecodingSession> sessions = new ArrayList<>();
        int stream;
        int done;
        long nanos;

        ChunkedPrefill(Slot slot) {
            this.slot = slot;
        }

        /** Prefills up to {@code budget} more tokens; true when every stream is prefilled. */
        boolean advance(int budget) {
            int[] prompt = slot.pending.prompts.get(stream);
            // a prefix the backend has cached costs no forward pass: the first chunk takes it and budget more tokens
            int cached = done == 0 ? lm.cachedPrefix(prompt) : 0;
            int n = Math.min(cached + budget, prompt.length - done);
            int[] chunk = java.util.Arrays.copyOfRange(prompt, done, done + n);
            if (done == 0) {
                sessions.add(lm.prefill(List.of(chunk)));
            } else {
                sessions.get(stream).extend(new int[][] {chunk});
            }
            done += n;
            if (done == prompt.length) {
                stream++;
                done = 0;
            }
            return stream == slot.pending.prompts.size();
        }

        void close() {
            for (DecodingSession s : sessions) {
                s.close();
            }
        }
    }

    /** A request in the batch. */
    private static final class Slot {
        final Pending pending;
        final RequestState state;
        int step;
        boolean gone;

        Slot(Pending pending, RequestState state) {
            this.pending = pending;
            this.state = state;
        }
    }
}
