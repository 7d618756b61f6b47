package io.github.amulet4j.generate;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.TextTokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The one place that checks what {@link Generator} and {@link ContinuousBatcher} are given, so that the same
 * bad request fails the same way in both: a request that lacks a prompt its method needs, a prompt longer than
 * the model's positions ({@link PromptTooLongException}), or a prompt token id outside the model's vocabulary
 * ({@link IllegalArgumentException}). Checks run in that order, preference stream before base stream.
 */
final class RequestChecks {

    private RequestChecks() {
    }

    /**
     * A request that passed the checks: its configuration and the prompts of the streams its method decodes
     * (the preference prompt first, then the base prompt; only those the method needs).
     */
    record Checked(GenerationConfig config, List<int[]> prompts) {

        /** Prompt tokens over all of the request's streams. */
        int promptTokens() {
            int n = 0;
            for (int[] p : prompts) {
                n += p.length;
            }
            return n;
        }
    }

    /**
     * Checks one request against {@code lm}.
     *
     * @param request  the request (may be null: a {@link NullPointerException} naming it)
     * @param index    its index in a batch of several, named in every message ({@code "request 2: ..."}), or
     *                 {@code -1} for a request on its own (no prefix)
     * @param defaults the configuration of a request that brings none
     * @param lm       the model whose positions and vocabulary bound the prompts
     * @throws NullPointerException     if {@code request} is null
     * @throws IllegalArgumentException if the method needs a prompt the request lacks, or a prompt id is
     *                                  outside {@code [0, lm.vocabSize())}
     * @throws PromptTooLongException   if a prompt is longer than {@code lm.maxPositions()}
     */
    static Checked check(GenerationRequest request, int index, GenerationConfig defaults, CausalLm lm) {
        String where = index < 0 ? "" : "request " + index + ": ";
        Objects.requireNonNull(request, index < 0 ? "request" : "request " + index);
        GenerationConfig cfg = request.config().orElse(defaults);
        AlignmentMethod m = cfg.method();
        int[] pref = request.preferenceIds();
        int[] base = request.baseIds();
        if (m.needsPreference() && pref == null) {
            throw new IllegalArgumentException(where + "method '" + m.id() + "' needs a preference prompt");
        }
        if (m.needsBase() && base == null) {
            throw new IllegalArgumentException(where + "method '" + m.id() + "' needs a base prompt");
        }
        List<int[]> prompts = new ArrayList<>(2);
        if (m.needsPreference()) {
            prompts.add(pref);
        }
        if (m.needsBase()) {
            prompts.add(base);
        }
        int maxPositions = lm.maxPositions();
        int modelVocab = lm.vocabSize();
        for (int[] p : prompts) {
            if (p.length > maxPositions) {
                throw new PromptTooLongException(where, p.length, maxPositions);
            }
            for (int id : p) {
                if (id < 0 || id >= modelVocab) {
                    throw new IllegalArgumentException(where + "prompt token id " + id
                            + " is outside the model's vocabulary [0, " + modelVocab + ")");
                }
            }
        }
        return new Checked(cfg, prompts);
    }

    /**
     * The number of tokens that can be generated: the smaller of the model's and the tokenizer's vocabulary.
     *
     * @throws IllegalArgumentException if either is not positive
     */
    static int vocabulary(CausalLm lm, TextTokenizer tokenizer) {
        int modelVocab = lm.vocabSize();
        int tokVocab = tokenizer.vocabularySize();
        if (modelVocab <= 0 || tokVocab <= 0) {
            throw new IllegalArgumentException("vocabulary sizes must be > 0: model " + modelVocab + ", tokenizer "
                    + tokVocab);
        }
        return Math.min(modelVocab, tokVocab);
    }

    /** The model's end-of-sequence ids as a set. @throws IllegalArgumentException for a negative id */
    static Set<Integer> eosSet(int... ids) {
        Set<Integer> set = new HashSet<>();
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("EOS token ids must be >= 0, got " + id);
            }
            set.add(id);
        }
        return set;
    }
}
