package io.github.amulet4j.eval.reward;

import com.google.gson.JsonObject;
import io.github.amulet4j.djl.Reward;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.djl.RewardTokens;
import io.github.amulet4j.eval.EvalSettings;
import io.github.amulet4j.eval.ExclusiveFiles;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.RowKey;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Scores eval results with a reward model, resumably: the rows of one or more results files
 * ({@link #read}), each scored once into a scores file that keeps every input field and adds {@code reward} (the
 * chosen objective), {@code rewards} (every label, for multi-label heads), {@code reward_tokens} and
 * {@code reward_messages} (the exact two messages scored). The scores file is a {@link ResultsFile}: exclusive while a
 * run writes it, each row forced to disk, a rerun scores only the rows not there yet.
 */
public final class RewardScoring {

    /**
     * What a run did.
     *
     * @param scored       rows scored and written by this run
     * @param alreadyThere rows the scores file held already
     * @param truncated    rows scored on cut tokens (the paper format's length, or the context with truncation on)
     * @param failed       rows left out, each as its key and why (longer than the context, no assistant header)
     */
    public record Outcome(int scored, int alreadyThere, int truncated, List<String> failed) {
        /** Copies the list. */
        public Outcome {
            failed = List.copyOf(failed);
        }
    }

    private RewardScoring() {
    }

    /**
     * The rows of {@code files} in order, the first of each key (index, method, preference) kept.
     *
     * @throws IllegalArgumentException naming the file and line of a row that is not an eval result
     */
    public static List<RewardInput> read(List<Path> files) throws IOException {
        Map<RowKey, RewardInput> rows = new LinkedHashMap<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("results file " + f + " does not exist");
            }
            try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                String line;
                int n = 0;
                while ((line = r.readLine()) != null) {
                    n++;
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonObject o = ExclusiveFiles.objectLine("results file", f, n, line, " (an eval results file)",
                            "an eval results file");
                    RewardInput in = RewardInput.of(o, f.toString(), n);
                    rows.putIfAbsent(in.key(), in);
                }
            }
        }
        return new ArrayList<>(rows.values());
    }

    /**
     * Scores the inputs whose keys {@code out} does not hold yet, {@code batch} at a time, appending a row each. Each
     * conversation is rendered and tokenized once, as {@code encoding} says; one that cannot be scored (longer than the
     * reward model's context without truncation, ArmoRM's assistant header cut off) is left out and named in the
     * outcome with its input line.
     *
     * @param objective the label whose output is {@code reward}
     * @param progress  told the rows scored so far after each batch
     * @throws IllegalArgumentException when {@code out} holds rows of another reward model or input format (a scores
     *                                  file holds one run's scores)
     */
    public static Outcome run(RewardModel model, List<RewardInput> inputs, ResultsFile out, int batch, int objective,
                              RewardEncoding encoding, IntConsumer progress) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(encoding, "encoding");
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        int labels = model.config().numLabels();
        if (objective < 0 || objective >= labels) {
            throw new IllegalArgumentException("objective " + objective + " outside the reward model's " + labels
                    + " label(s) " + model.config().labels());
        }
        checkSameRun(out, model, encoding, objective);
        Set<RowKey> done = new LinkedHashSet<>(out.doneKeys());
        List<RewardInput> todo = new ArrayList<>();
        int already = 0;
        for (RewardInput in : inputs) {
            if (done.contains(in.key())) {
                already++;
            } else {
                todo.add(in);
            }
        }
        int scored = 0;
        int truncated = 0;
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < todo.size(); i += batch) {
            Batch b = scoreBatch(model, todo.subList(i, Math.min(todo.size(), i + batch)), encoding, objective);
            for (JsonObject row : b.rows()) {
                out.append(row);
            }
            scored += b.rows().size();
            truncated += b.truncated();
            failed.addAll(b.failed());
            progress.accept(scored);
        }
        return new Outcome(scored, already, truncated, failed);
    }

    /**
     * One batch's scored rows, the number of them scored on cut tokens, and the rows left out (each as where it was
     * read, its key and why).
     */
    public record Batch(List<JsonObject> rows, int truncated, List<String> failed) {
        /** Copies the lists. */
        public Batch {
            rows = List.copyOf(rows);
            failed = List.copyOf(failed);
        }
    }

    /**
     * Scores {@code inputs} in one batch ({@link RewardModel#scoreEncoded}), each rendered and tokenized once as
     * {@code encoding} says; one that cannot be scored is left out and named. Used by {@link #run} and by a Spark
     * executor's task alike.
     */
    public static Batch scoreBatch(RewardModel model, List<RewardInput> inputs, RewardEncoding encoding,
                                   int objective) {
        List<RewardInput> todo = new ArrayList<>();
        List<RewardTokens> encoded = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (RewardInput in : inputs) {
            try {
                encoded.add(model.encode(in.conversation(), encoding));
                todo.add(in);
            } catch (IllegalArgumentException e) {
                failed.add(in.where() + " (index " + in.key().index() + ", " + in.key().method() + ", "
                        + in.key().preference() + "): " + e.getMessage().replaceFirst("^conversation 0 ", ""));
            }
        }
        List<Reward> rewards = model.scoreEncoded(encoded);
        List<JsonObject> rows = new ArrayList<>(todo.size());
        int truncated = 0;
        for (int k = 0; k < todo.size(); k++) {
            rows.add(row(model, todo.get(k), rewards.get(k), objective, encoding, encoded.get(k)));
            truncated += encoded.get(k).truncated() ? 1 : 0;
        }
        return new Batch(rows, truncated, failed);
    }

    /**
     * The label {@code spec} names: {@code auto} (ArmoRM's objective 6, {@code ultrafeedback-instruction_following},
     * as the paper reads it; else 0), a label's name or its index.
     *
     * @throws IllegalArgumentException naming the labels when {@code spec} is none of them
     */
    public static int objectiveIndex(String spec, RewardModel model) {
        List<String> labels = model.config().labels();
        if (spec.equals("auto")) {
            return model.config().gating() != null ? Math.min(6, labels.size() - 1) : 0;
        }
        int i = labels.indexOf(spec);
        if (i >= 0) {
            return i;
        }
        try {
            i = Integer.parseInt(spec.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--objective: '" + spec + "' is neither an index nor a label of the "
                    + "reward model " + labels);
        }
        if (i < 0 || i >= labels.size()) {
            throw new IllegalArgumentException("--objective: " + i + " is outside the reward model's " + labels.size()
                    + " label(s) " + labels);
        }
        return i;
    }

    /** Refuses to add rows to a scores file that holds another reward model's, format's or objective's scores. */
    private static void checkSameRun(ResultsFile out, RewardModel model, RewardEncoding encoding, int objective) {
        String objectiveName = model.config().labels().get(objective);
        for (JsonObject o : out.existingRows()) {
            String[][] fields = {
                {"reward_model", model.name()},
                {"reward_format", formatName(encoding)},
                {"reward_objective", objectiveName},
            };
            for (String[] f : fields) {
                String recorded = o.has(f[0]) && o.get(f[0]).isJsonPrimitive() ? o.get(f[0]).getAsString() : null;
                if (recorded != null && !recorded.equals(f[1])) {
                    throw new IllegalArgumentException(out.path() + " holds scores with " + f[0] + " '" + recorded
                            + "', this run's is '" + f[1] + "': write to another --out (a scores file holds one run)");
                }
            }
        }
    }

    /** The {@code reward_format} a row records: {@code documented}, or {@code paper:N} with the paper's length. */
    public static String formatName(RewardEncoding encoding) {
        return (encoding.style() == RewardEncoding.Style.PAPER ? "paper:" + encoding.maxTokens() : "documented")
                + (encoding.truncateToContext() ? "+truncate" : "");
    }

    /**
     * The paper's truncation length for {@code results}: the {@code max_new_tokens} their eval settings files
     * ({@code <results>.settings.json}) record, as its {@code rm_evals.py} truncates to its {@code max_new_tokens}.
     *
     * @return empty when no results file has a settings file
     * @throws IllegalArgumentException naming both files when two record different lengths
     */
    public static java.util.OptionalInt recordedMaxNewTokens(List<Path> results) throws IOException {
        Integer found = null;
        Path from = null;
        for (Path r : results) {
            Path settings = EvalSettings.fileFor(r);
            var recorded = EvalSettings.read(settings);
            if (recorded.isEmpty() || !recorded.get().toJson().has("max_new_tokens")) {
                continue;
            }
            int n = recorded.get().toJson().get("max_new_tokens").getAsInt();
            if (found != null && found != n) {
                throw new IllegalArgumentException(from + " records max_new_tokens " + found + " but " + settings
                        + " records " + n + ": give the paper format's length with --paper-max-tokens");
            }
            found = n;
            from = settings;
        }
        return found == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(found);
    }

    /** The output row: the input row's fields and the reward model's. */
    static JsonObject row(RewardModel model, RewardInput in, Reward r, int objective, RewardEncoding encoding,
                          RewardTokens tokens) {
        JsonObject o = in.row().deepCopy();
        o.addProperty("reward", r.reward(objective));
        List<String> labels = model.config().labels();
        o.addProperty("reward_objective", labels.get(objective));
        if (labels.size() > 1) {
            JsonObject all = new JsonObject();
            for (int k = 0; k < labels.size(); k++) {
                all.addProperty(labels.get(k), r.reward(k));
            }
            o.add("rewards", all);
            if (!Float.isNaN(r.score())) {
                o.addProperty("score", r.score()); // ArmoRM's gated score
            }
        }
        o.addProperty("reward_model", model.name());
        o.addProperty("reward_format", formatName(encoding));
        o.addProperty("reward_tokens", r.tokens());
        if (tokens.truncated()) {
            o.addProperty("reward_truncated_from", tokens.rendered());
        }
        o.add("reward_messages", in.messagesJson());
        return o;
    }

    /**
     * The report of scored rows (every row of a scores file): preference to method to question index to reward.
     *
     * @param candidates the methods whose win rates over the others are reported
     */
    public static RewardReport report(List<JsonObject> scored, List<String> candidates) {
        Map<String, Map<String, Map<Integer, Double>>> byPreference = new LinkedHashMap<>();
        for (JsonObject o : scored) {
            if (!o.has("reward") || !o.get("reward").isJsonPrimitive()) {
                continue;
            }
            byPreference.computeIfAbsent(o.get("preference").getAsString(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(o.get("method").getAsString(), k -> new LinkedHashMap<>())
                    .putIfAbsent(o.get("index").getAsInt(), o.get("reward").getAsDouble());
        }
        return RewardReport.of(byPreference, candidates);
    }
}
