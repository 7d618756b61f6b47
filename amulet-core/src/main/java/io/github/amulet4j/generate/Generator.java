package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.backend.TextTokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two-stream generation loop. For a batch of requests it runs one {@link CausalLm#prefill} over every
 * stream the requests' methods need, then per step one {@link DecodingSession#append} for all live
 * streams: each request's method turns its rows of logits into one token, which is appended to both of
 * its streams (so they stay in lock-step) and handed to the {@link TokenListener} at once. Requests
 * finish independently (end-of-sequence id, {@code maxNewTokens}, stop string, or a full context); a
 * finished request's streams leave the batch through {@link DecodingSession#select}.
 *
 * <p>Only the first {@code min(model vocabulary, tokenizer vocabulary)} logits of a row are read, so rows
 * of a padded embedding matrix are never chosen. Not thread-safe: one batch at a time.
 */
public final class Generator {

    private static final Logger LOG = LoggerFactory.getLogger(Generator.class);

    private final CausalLm lm;
    private final TextTokenizer tokenizer;
    private final GenerationConfig defaults;
    private final Set<Integer> modelEos;
    private final int vocab;

    /**
     * @param lm              the model
     * @param tokenizer       its tokenizer (decodes text for stop strings and streaming; gives the real vocabulary)
     * @param defaults        configuration of requests that bring none
     * @param modelEosTokenIds the model's end-of-sequence ids (Hugging Face {@code eos_token_id}); a
     *                        request's {@link GenerationConfig#eosTokenIds()} are added to these
     */
    public Generator(CausalLm lm, TextTokenizer tokenizer, GenerationConfig defaults, int... modelEosTokenIds) {
        this.lm = Objects.requireNonNull(lm, "lm");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.modelEos = RequestChecks.eosSet(modelEosTokenIds);
        this.vocab = RequestChecks.vocabulary(lm, tokenizer);
        int modelVocab = lm.vocabSize();
        int tokVocab = tokenizer.vocabularySize();
        if (modelVocab > tokVocab) {
            LOG.debug("model has {} logits per row, tokenizer {} tokens: the {} padded rows are never chosen",
                    modelVocab, tokVocab, modelVocab - tokVocab);
        } else if (tokVocab > modelVocab) {
            LOG.warn("tokenizer has {} tokens but the model only {} logits; tokens >= {} cannot be generated",
                    tokVocab, modelVocab, modelVocab);
        }
    }

    /** A generator with the paper's default configuration. */
    public Generator(CausalLm lm, TextTokenizer tokenizer, int... modelEosTokenIds) {
        this(lm, tokenizer, GenerationConfig.defaults(), modelEosTokenIds);
    }

    public GenerationConfig defaults() {
        return defaults;
    }

    /** Number of tokens that can be generated (the smaller of the model's and the tokenizer's vocabulary). */
    public int vocabularySize() {
        return vocab;
    }

    /** Generates one request. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, TokenListener.NONE);
    }

    /**
     * Generates one request, streaming its tokens to {@code listener} (request index 0). A bad request fails
     * exactly as {@link ContinuousBatcher#submit} fails it.
     */
    public GenerationResult generate(GenerationRequest request, TokenListener listener) {
        Objects.requireNonNull(request, "request");
        return generate(List.of(request), listener).get(0);
    }

    /** Generates a batch of requests. */
    public List<GenerationResult> generate(List<GenerationRequest> requests) {
        return generate(requests, TokenListener.NONE);
    }

    /**
     * Generates a batch; results are in request order. Requests are checked as {@link ContinuousBatcher#submit}
     * checks them; in a batch of more than one request, each message starts with the request's index
     * ({@code "request 2: ..."}).
     *
     * @throws IllegalArgumentException if a request lacks a prompt its method needs, or holds an id outside
     *                                  the model's vocabulary
     * @throws PromptTooLongException   if a prompt is longer than the model's positions
     * @throws io.github.amulet4j.align.LogitsException on NaN/+inf logits (naming stream, step and request)
     */
    public List<GenerationResult> generate(List<GenerationRequest> requests, TokenListener listener) {
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(listener, "listener");
        if (requests.isEmpty()) {
            return List.of();
        }
        float[] scratch = new float[vocab];
        List<int[]> prompts = new ArrayList<>();
        List<RequestState> states = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            RequestChecks.Checked checked =
                    RequestChecks.check(requests.get(i), requests.size() == 1 ? -1 : i, defaults, lm);
            GenerationConfig cfg = checked.config();
            List<int[]> streams = checked.prompts();
            Set<Integer> eos = new HashSet<>(modelEos);
            eos.addAll(cfg.eosTokenIds());
            TextTracker text = new TextTracker(tokenizer, cfg.stopStrings());
            int[] rows = new int[streams.size()];
            for (int s = 0; s < streams.size(); s++) {
                rows[s] = prompts.size();
                prompts.add(streams.get(s));
            }
            RequestState st = cfg.method() == AlignmentMethod.BEAM
                    ? new BeamSearchRequest(i, cfg, eos, listener, streams, text, scratch)
                    : new TokenByTokenRequest(i, cfg, eos, listener, streams, text, scratch);
            st.rows = rows;
            states.add(st);
        }

        long t0 = System.nanoTime();
        for (RequestState s : states) {
            s.startedAt = t0;
        }
        try (DecodingSession session = lm.prefill(prompts)) {
            long prefillNanos = System.nanoTime() - t0;
            long decodeStart = System.nanoTime();
            for (RequestState s : states) {
                s.prefillNanos = prefillNanos;
                s.decodeStart = decodeStart;
                s.countReused(session);
            }
            LOG.debug("prefill of {} streams for {} requests took {} ms", prompts.size(), states.size(),
                    prefillNanos / 1_000_000);
            List<RequestState> live = new ArrayList<>(states);
            IntList sources = new IntList();
            IntList tokens = new IntList();
            for (int step = 0; !live.isEmpty(); step++) {
                Logits logits = session.logits();
                if (logits.rows() != session.streams() || logits.vocab() < vocab) {
                    throw new IllegalStateException("backend returned logits [" + logits.rows() + ", " + logits.vocab()
                            + "] for " + session.streams() + " streams and a vocabulary of " + vocab);
                }
                sources.clear();
                tokens.clear();
                for (RequestState s : live) {
                    s.advance(logits, session, step, vocab, lm.maxPositions(), sources, tokens);
                    s.stepped();
                }
                live.removeIf(RequestState::finished);
                if (live.isEmpty()) {
                    break;
                }
                if (!sources.isIdentity(session.streams())) {
                    session.select(sources.toArray());
                }
                long f0 = System.nanoTime();
                session.append(tokens.toArray());
                long forward = System.nanoTime() - f0;
                for (RequestState s : live) {
                    s.forwardPass(forward);
                }
            }
        }
        List<GenerationResult> results = new ArrayList<>(states.size());
        for (RequestState s : states) {
            results.add(s.result);
        }
        return results;
    }

}
