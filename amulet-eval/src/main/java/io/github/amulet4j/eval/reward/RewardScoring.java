package io.github.amulet4j.eval.reward;

import com.google.gson.JsonObject;
import io.github.amulet4j.djl.Reward;
import io.github.amulet4j.djl.RewardModel;
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

    /** What a run did. */
    public record Outcome(int scored, int alreadyThere, List<String> tooLong) {
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
     * Scores the inputs whose keys {@code out} does not hold yet, {@code batch} at a time, appending a row each.
     * A conversation longer than the reward model's context is left out and named in the outcome.
     *
     * @param objective the label whose output is {@code reward}
     * @param progress  told the rows scored so far after each batch
     */
    public static Outcome run(RewardModel model, List<RewardInput> inputs, ResultsFile out, int batch, int objective,
                              IntConsumer progress) throws IOException {
        Objects.requireNonNull(model, "model");
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        int labels = model.config().numLabels();
        if (objective < 0 || objective >= labels) {
            throw new IllegalArgumentException("objective " + objective + " outside the reward model's " + labels
                    + " label(s) " + model.config().labels());
        }
        Set<RowKey> done = new LinkedHashSet<>(out.doneKeys());
        List<RewardInput> todo = new ArrayList<>();
        List<String> tooLong = new ArrayList<>();
        int already = 0;
        for (RewardInput in : inputs) {
            if (done.contains(in.key())) {
                already++;
                continue;
            }
            try {
                model.tokens(in.conversation());
                todo.add(in);
            } catch (IllegalArgumentException e) {
                tooLong.add(in.key() + ": " + e.getMessage());
            }
        }
        int scored = 0;
        for (int i = 0; i < todo.size(); i += batch) {
            List<RewardInput> part = todo.subList(i, Math.min(todo.size(), i + batch));
            List<Reward> rewards = model.score(part.stream().map(RewardInput::conversation).toList());
            for (int k = 0; k < part.size(); k++) {
                out.append(row(model, part.get(k), rewards.get(k), objective));
                scored++;
            }
            progress.accept(scored);
        }
        return new Outcome(scored, already, tooLong);
    }

    /** The output row: the input row's fields and the reward model's. */
    static JsonObject row(RewardModel model, RewardInput in, Reward r, int objective) {
        JsonObject o = in.row().deepCopy();
        o.addProperty("reward", r.reward(objective));
        List<String> labels = model.config().labels();
        if (labels.size() > 1) {
            JsonObject all = new JsonObject();
            for (int k = 0; k < labels.size(); k++) {
                all.addProperty(labels.get(k), r.reward(k));
            }
            o.add("rewards", all);
            o.addProperty("reward_objective", labels.get(objective));
            if (!Float.isNaN(r.score())) {
                o.addProperty("score", r.score()); // ArmoRM's gated score
            }
        }
        o.addProperty("reward_model", model.name());
        o.addProperty("reward_tokens", r.tokens());
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
