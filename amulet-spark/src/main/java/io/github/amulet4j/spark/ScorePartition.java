package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.eval.reward.ScoringPlan;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The task of {@code eval --spark ... --score}: scores a partition of result rows (JSON lines) in batches of the
 * scoring plan's size on the executor's reward model ({@link ExecutorModels#rewardModel}, one per executor JVM) and
 * yields the scored rows, one batch at a time; a row that cannot be scored is left out and named in {@code failed}.
 */
final class ScorePartition implements FlatMapFunction<Iterator<String>, String> {

    private static final long serialVersionUID = 1L;

    private final EvalPlan plan;
    private final String source;
    private final LongAccumulator rows;
    private final LongAccumulator truncated;
    private final CollectionAccumulator<String> failed;

    /**
     * @param plan   the eval plan with its {@link EvalPlan#scoring() scoring}
     * @param source the results' location, named with a row that is left out
     */
    ScorePartition(EvalPlan plan, String source, LongAccumulator rows, LongAccumulator truncated,
                   CollectionAccumulator<String> failed) {
        if (plan.scoring().isEmpty()) {
            throw new IllegalArgumentException("the plan has no scoring: " + plan);
        }
        this.plan = plan;
        this.source = source;
        this.rows = rows;
        this.truncated = truncated;
        this.failed = failed;
    }

    @Override
    public Iterator<String> call(Iterator<String> lines) {
        ScoringPlan scoring = plan.scoring().orElseThrow();
        RewardEncoding encoding = scoring.encoding(plan.maxNewTokens());
        return new Iterator<>() {
            private final Deque<String> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && lines.hasNext()) {
                    List<RewardInput> chunk = new ArrayList<>();
                    while (chunk.size() < scoring.batch() && lines.hasNext()) {
                        String line = lines.next();
                        if (!line.isBlank()) {
                            JsonObject row = JsonParser.parseString(line).getAsJsonObject();
                            chunk.add(RewardInput.of(row, source, 0));
                        }
                    }
                    if (!chunk.isEmpty()) {
                        RewardScoring.Batch b = ExecutorModels.score(scoring, chunk, encoding);
                        b.rows().forEach(r -> ready.add(ResultsFile.line(r)));
                        rows.add(b.rows().size());
                        truncated.add(b.truncated());
                        b.failed().forEach(failed::add);
                    }
                }
                return !ready.isEmpty();
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }
}
