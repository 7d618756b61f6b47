package io.github.amulet4j.benchmarks.decode;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.transformer.PromptCache;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The conversation mode of the benchmark ({@code amulet bench --conversation-turns N}): one {@code amulet}
 * conversation (greedy) whose every turn is the previous prompt, its answer and {@code promptTokens} new random ids,
 * both streams (the preference stream has {@value DecodeBenchmark#PREFERENCE_TOKENS} more ids in front), run once on
 * the model with the prompt cache (the runtime's budget) and then replayed on a load without it. Reports per turn the
 * prompt tokens, those the cache restored, the time to first token of both runs and whether they answered alike, and
 * the cache's counters at the end (hits, tokens reused, bytes held, evictions).
 */
public final class ConversationBench {

    private final DecodeBenchmarkSettings settings;
    private final int turns;
    private final Consumer<String> progress;

    /**
     * @param settings model, runtime (its prompt-cache budget), prompt tokens a turn, answer tokens
     *                 ({@link DecodeBenchmarkSettings#newTokens()}) and seed
     * @param turns    turns of the conversation (at least 1)
     * @param progress receives one line per phase
     */
    public ConversationBench(DecodeBenchmarkSettings settings, int turns, Consumer<String> progress) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (turns < 1) {
            throw new IllegalArgumentException("turns must be >= 1, got " + turns);
        }
        this.turns = turns;
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** One turn: prompt tokens of both streams, those restored, and both runs' time to first token. */
    public record Turn(int promptTokens, int reused, double ttftMillisCached, double ttftMillisUncached,
                       boolean sameTokens) {
    }

    /**
     * What the conversation measured.
     *
     * @param model        the model (a shape with random weights, or a folder)
     * @param promptTokens new prompt tokens a turn
     * @param answerTokens tokens of every answer
     * @param budgetMib    the prompt cache's budget
     * @param turns        one row per turn
     * @param cache        the cache's counters after the conversation (empty if the model had no cache)
     */
    public record Report(String model, int promptTokens, int answerTokens, long budgetMib, List<Turn> turns,
                         PromptCache.Stats cache) {

        /** Time to first token of the last turn over the first's, with the cache. */
        public double lastOverFirstCached() {
            return turns.get(turns.size() - 1).ttftMillisCached() / turns.get(0).ttftMillisCached();
        }

        /** The same without the cache. */
        public double lastOverFirstUncached() {
            return turns.get(turns.size() - 1).ttftMillisUncached() / turns.get(0).ttftMillisUncached();
        }

        /** A table of the turns and the cache's counters. */
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(java.util.Locale.ROOT, "conversation on %s: %d turns of amulet (greedy), %d new "
                    + "prompt tokens a turn, %d-token answers, prompt cache %d MiB%n", model, turns.size(),
                    promptTokens, answerTokens, budgetMib));
            sb.append("turn | prompt tokens | reused | prefilled | TTFT ms (cache) | TTFT ms (no cache) | same tokens\n");
            for (int i = 0; i < turns.size(); i++) {
                Turn t = turns.get(i);
                sb.append(String.format(java.util.Locale.ROOT, "%d | %d | %d | %d | %.0f | %.0f | %s%n", i + 1,
                        t.promptTokens(), t.reused(), t.promptTokens() - t.reused(), t.ttftMillisCached(),
                        t.ttftMillisUncached(), t.sameTokens() ? "yes" : "NO"));
            }
            sb.append(String.format(java.util.Locale.ROOT, "turn %d / turn 1 time to first token: %.2f with the cache, "
                    + "%.2f without%n", turns.size(), lastOverFirstCached(), lastOverFirstUncached()));
            if (cache != null) {
                sb.append(String.format(java.util.Locale.ROOT, "prompt cache: %d hits of %d lookups, %d tokens reused, "
                        + "%d prefilled, %d entries holding %.1f MiB (budget %d MiB), %d evictions", cache.hits(),
                        cache.lookups(), cache.tokensReused(), cache.tokensPrefilled(), cache.entries(),
                        cache.bytesHeld() / 1048576.0, cache.budgetBytes() >> 20, cache.evictions()));
            } else {
                sb.append("prompt cache: off");
            }
            return sb.toString();
        }

        /** One JSON object: the settings, {@code turns} and {@code prompt_cache}. */
        public String json() {
            com.google.gson.JsonObject o = new com.google.gson.JsonObject();
            o.addProperty("model", model);
            o.addProperty("prompt_tokens_per_turn", promptTokens);
            o.addProperty("answer_tokens", answerTokens);
            o.addProperty("prompt_cache_mib", budgetMib);
            com.google.gson.JsonArray rows = new com.google.gson.JsonArray();
            for (Turn t : turns) {
                com.google.gson.JsonObject r = new com.google.gson.JsonObject();
                r.addProperty("prompt_tokens", t.promptTokens());
                r.addProperty("tokens_reused", t.reused());
                r.addProperty("ttft_ms_cached", t.ttftMillisCached());
                r.addProperty("ttft_ms_uncached", t.ttftMillisUncached());
                r.addProperty("same_tokens", t.sameTokens());
                rows.add(r);
            }
            o.add("turns", rows);
            com.google.gson.JsonObject c = new com.google.gson.JsonObject();
            c.addProperty("enabled", cache != null);
            if (cache != null) {
                c.addProperty("lookups", cache.lookups());
                c.addProperty("hits", cache.hits());
                c.addProperty("tokens_reused", cache.tokensReused());
                c.addProperty("tokens_prefilled", cache.tokensPrefilled());
                c.addProperty("entries", cache.entries());
                c.addProperty("bytes_held", cache.bytesHeld());
                c.addProperty("budget_bytes", cache.budgetBytes());
                c.addProperty("evictions", cache.evictions());
            }
            o.add("prompt_cache", c);
            return o.toString();
        }
    }

    /** Runs the conversation. @throws IOException when the model cannot be written or read */
    public Report run() throws IOException {
        return DecodeBenchmark.onModel(settings, progress, this::measure);
    }

    private Report measure(Path dir, String name) throws IOException {
        List<int[][]> prompts = new ArrayList<>();
        List<int[]> answers = new ArrayList<>();
        List<double[]> cachedRuns = new ArrayList<>();
        PromptCache.Stats stats;
        long budget = settings.runtime().promptCacheMib();
        progress.accept("conversation with the prompt cache (" + budget + " MiB) ...");
        try (AmuletModel model = AmuletModel.load(ModelOptions.builder().model(dir).runtime(settings.runtime())
                .build())) {
            int vocab = Math.min(model.config().vocabSize(), model.prompts().tokenizer().vocabularySize());
            GenerationConfig config = config(model);
            SplittableRandom rnd = new SplittableRandom(settings.seed());
            int[] preference = rnd.ints(DecodeBenchmark.PREFERENCE_TOKENS, 0, vocab).toArray();
            int[] history = new int[0];
            warmUp(model, config, rnd.ints(16, 0, vocab).toArray());
            for (int turn = 1; turn <= turns; turn++) {
                history = concat(history, rnd.ints(settings.promptTokens(), 0, vocab).toArray());
                int[][] pair = {history, concat(preference, history)};
                GenerationResult r = model.generateTokenIds(GenerationRequest.of(pair[0], pair[1]).withConfig(config),
                        TokenListener.NONE);
                prompts.add(pair);
                answers.add(r.tokenIds());
                cachedRuns.add(new double[] {r.stats().promptTokens(), r.stats().promptTokensReused(),
                        r.stats().timeToFirstTokenNanos() / 1e6});
                progress.accept(String.format(java.util.Locale.ROOT, "turn %d: %d prompt tokens, %d reused, first token "
                        + "after %.0f ms", turn, r.stats().promptTokens(), r.stats().promptTokensReused(),
                        r.stats().timeToFirstTokenNanos() / 1e6));
                history = concat(history, r.tokenIds());
            }
            stats = model.promptCacheStats().orElse(null);
        }
        progress.accept("the same turns without the prompt cache ...");
        List<Turn> rows = new ArrayList<>();
        try (AmuletModel model = AmuletModel.load(ModelOptions.builder().model(dir)
                .runtime(settings.runtime().toBuilder().promptCacheMib(0).build()).build())) {
            GenerationConfig config = config(model);
            warmUp(model, config, Arrays.copyOf(prompts.get(0)[0], Math.min(16, prompts.get(0)[0].length)));
            for (int i = 0; i < turns; i++) {
                int[][] pair = prompts.get(i);
                GenerationResult r = model.generateTokenIds(GenerationRequest.of(pair[0], pair[1]).withConfig(config),
                        TokenListener.NONE);
                double[] c = cachedRuns.get(i);
                rows.add(new Turn((int) c[0], (int) c[1], c[2], r.stats().timeToFirstTokenNanos() / 1e6,
                        Arrays.equals(answers.get(i), r.tokenIds())));
            }
        }
        return new Report(name, settings.promptTokens(), settings.newTokens(), budget, rows, stats);
    }

    private GenerationConfig config(AmuletModel model) {
        return GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(settings.newTokens())
                .processorAfterStep(new DecodeBenchmark.NoEndOfSequence(model.prompts().eosTokenIds().stream()
                        .mapToInt(Integer::intValue).toArray())).build();
    }

    /** One short request outside the conversation (the JIT), its ids unlike the conversation's. */
    private void warmUp(AmuletModel model, GenerationConfig config, int[] ids) {
        if (settings.warmupTokens() > 0) {
            int[] reversed = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                reversed[i] = ids[ids.length - 1 - i];
            }
            model.generateTokenIds(GenerationRequest.of(reversed, ids).withConfig(config.toBuilder()
                    .maxNewTokens(settings.warmupTokens()).build()), TokenListener.NONE);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
