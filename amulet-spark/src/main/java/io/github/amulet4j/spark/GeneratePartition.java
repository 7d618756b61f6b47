package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.EvalRows;
import io.github.amulet4j.eval.Question;
import io.github.amulet4j.eval.ResultsFile;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The task of a Spark eval run: generates a partition's items in batches of {@code --batch} through the executor's
 * model ({@link ExecutorModels}) and yields their rows as JSON lines, one batch at a time (the writer commits the
 * task's file only when every row of the partition is written).
 */
final class GeneratePartition implements FlatMapFunction<Iterator<EvalItem>, String> {

    private static final long serialVersionUID = 1L;

    /** Faults injected in this JVM (tests). */
    static final AtomicInteger INJECTED_FAULTS = new AtomicInteger();

    private final EvalPlan plan;
    private final LongAccumulator rows;
    private final LongAccumulator newTokens;
    private final LongAccumulator nanos;
    private final int firstPartition;
    private final int failFirstAttemptOf;
    private final int failEveryAttemptOf;

    /**
     * @param firstPartition     the run's number of this job's partition 0 (a run commits in several jobs)
     * @param failFirstAttemptOf a partition (of the run) whose first attempt fails after its first batch, or -1
     * @param failEveryAttemptOf a partition (of the run) whose every attempt fails after its first batch, or -1
     */
    GeneratePartition(EvalPlan plan, LongAccumulator rows, LongAccumulator newTokens, LongAccumulator nanos,
                      int firstPartition, int failFirstAttemptOf, int failEveryAttemptOf) {
        this.plan = plan;
        this.rows = rows;
        this.newTokens = newTokens;
        this.nanos = nanos;
        this.firstPartition = firstPartition;
        this.failFirstAttemptOf = failFirstAttemptOf;
        this.failEveryAttemptOf = failEveryAttemptOf;
    }

    @Override
    public Iterator<String> call(Iterator<EvalItem> items) {
        TaskContext task = TaskContext.get();
        int partition = task == null ? -1 : firstPartition + task.partitionId();
        boolean injectFault = task != null && (partition == failEveryAttemptOf
                || partition == failFirstAttemptOf && task.attemptNumber() == 0);
        return new Iterator<>() {
            private final Deque<String> ready = new ArrayDeque<>();
            private int batches;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && items.hasNext()) {
                    if (injectFault && batches == 1) {
                        INJECTED_FAULTS.incrementAndGet();
                        throw new IllegalStateException("injected fault: attempt " + task.attemptNumber()
                                + " of partition " + partition);
                    }
                    nextBatch();
                    batches++;
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

            private void nextBatch() {
                List<EvalItem> chunk = new ArrayList<>();
                while (chunk.size() < plan.batch() && items.hasNext()) {
                    EvalItem item = items.next();
                    if (item.generates()) {
                        chunk.add(item);
                    } else {
                        ready.add(item.line());
                        rows.add(1);
                    }
                }
                if (!chunk.isEmpty()) {
                    generate(chunk, ready);
                }
            }
        };
    }

    private void generate(List<EvalItem> chunk, Deque<String> out) {
        List<AmuletRequest> requests = new ArrayList<>(chunk.size());
        for (EvalItem item : chunk) {
            requests.add(plan.request(item.question(), AlignmentMethod.fromName(item.method()),
                    new Preference(item.preferenceText())));
        }
        ExecutorModels.Batch batch = ExecutorModels.generate(plan, requests);
        long share = batch.nanos() / chunk.size();
        for (int i = 0; i < chunk.size(); i++) {
            EvalItem item = chunk.get(i);
            GenerationResult result = batch.results().get(i);
            JsonObject row = EvalRows.row(batch.modelName(), new Question(item.index(), item.question()),
                    AlignmentMethod.fromName(item.method()), item.preferenceName(), new Preference(item.preferenceText()),
                    result, share);
            row.addProperty("batch", chunk.size());
            out.add(ResultsFile.line(row));
            for (int c = 0; c < item.copyNames().size(); c++) {
                out.add(ResultsFile.line(EvalRows.baseCopy(row, item.copyNames().get(c),
                        new Preference(item.copyTexts().get(c)))));
            }
            rows.add(item.rows());
            newTokens.add(result.generatedTokens());
        }
        nanos.add(batch.nanos());
    }
}
