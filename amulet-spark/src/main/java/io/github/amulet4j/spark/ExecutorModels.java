package io.github.amulet4j.spark;

import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RewardEncoding;
import io.github.amulet4j.djl.RewardModel;
import io.github.amulet4j.eval.reward.RewardInput;
import io.github.amulet4j.eval.reward.RewardScoring;
import io.github.amulet4j.eval.reward.ScoringPlan;
import io.github.amulet4j.generate.GenerationResult;
import ai.djl.Device;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The models of this JVM (a Spark executor, or the driver in local mode), generation and reward models alike: each
 * loaded once, on the first task that needs it, and shared by every later task; all closed when the JVM shuts down (or by {@link #closeAll()}).
 * Generation is serialized per model (a model runs one batch at a time), and a batch's time is measured while it
 * holds the model, so that concurrent tasks do not count each other's batches.
 */
final class ExecutorModels {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<ModelOptions, AmuletModel> MODELS = new HashMap<>();
    private static final Map<ModelOptions, RewardModel> REWARD_MODELS = new HashMap<>();
    private static int loads;
    private static boolean hooked;

    private ExecutorModels() {
    }

    /** One batch's results and the nanoseconds it held the model. */
    record Batch(String modelName, List<GenerationResult> results, long nanos) {
    }

    /** The model of {@code plan}, loaded on first use in this JVM. */
    static AmuletModel model(EvalPlan plan) {
        ModelOptions options = onTaskGpu(plan.modelOptions(), TaskContext.get());
        synchronized (MODELS) {
            AmuletModel m = MODELS.get(options);
            if (m == null) {
                long start = System.nanoTime();
                try {
                    m = AmuletModel.load(options); // on the task's GPU, when Spark assigned one
                } catch (IOException e) {
                    throw new UncheckedIOException("loading " + options.model() + " on this executor", e);
                }
                loads++;
                LOG.info("loaded {} in this executor in {} ms", m.name(), (System.nanoTime() - start) / 1_000_000);
                MODELS.put(options, m);
                hookOnce();
            }
            return m;
        }
    }

    /**
     * With a GPU device ({@code --device gpu}), the GPU Spark assigned to the task when it schedules GPUs
     * ({@code spark.task.resource.gpu.amount}), so that executors sharing a node use their own GPUs; else as given.
     */
    static ModelOptions onTaskGpu(ModelOptions options, TaskContext task) {
        ResourceInformation gpu = task == null ? null : task.resourcesJMap().get("gpu");
        return onGpu(options, gpu == null ? new String[0] : gpu.addresses());
    }

    /** {@code options} on the first of {@code gpuAddresses} when they run on a GPU and an address is given. */
    static ModelOptions onGpu(ModelOptions options, String[] gpuAddresses) {
        if (!options.runtime().device().isGpu() || gpuAddresses.length == 0) {
            return options;
        }
        int id = Integer.parseInt(gpuAddresses[0].trim());
        return options.toBuilder().runtime(r -> r.device(Device.gpu(id))).build();
    }

    /** Generates one batch on the model of {@code plan}, holding the model for the whole batch. */
    static Batch generate(EvalPlan plan, List<AmuletRequest> requests) {
        AmuletModel model = model(plan);
        synchronized (model) {
            long start = System.nanoTime();
            List<GenerationResult> results = model.generate(requests);
            return new Batch(model.name(), results, System.nanoTime() - start);
        }
    }

    /** The reward model of {@code scoring}, loaded on first use in this JVM. */
    static RewardModel rewardModel(ScoringPlan scoring) {
        ModelOptions options = scoring.rewardModel();
        synchronized (MODELS) {
            RewardModel m = REWARD_MODELS.get(options);
            if (m == null) {
                long start = System.nanoTime();
                try {
                    m = RewardModel.load(options);
                } catch (IOException e) {
                    throw new UncheckedIOException("loading the reward model " + options.model() + " on this executor",
                            e);
                }
                loads++;
                LOG.info("loaded reward model {} in this executor in {} ms", m.name(),
                        (System.nanoTime() - start) / 1_000_000);
                REWARD_MODELS.put(options, m);
                hookOnce();
            }
            return m;
        }
    }

    /** Scores one batch on the reward model of {@code scoring}, holding the model for the whole batch. */
    static RewardScoring.Batch score(ScoringPlan scoring, List<RewardInput> inputs, RewardEncoding encoding) {
        RewardModel model = rewardModel(scoring);
        synchronized (model) {
            return RewardScoring.scoreBatch(model, inputs, encoding,
                    RewardScoring.objectiveIndex(scoring.objective(), model));
        }
    }

    private static void hookOnce() {
        if (!hooked) {
            hooked = true;
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "amulet-models-close"));
        }
    }

    /** How many models (reward models included) this JVM has loaded since it started. */
    static int loads() {
        synchronized (MODELS) {
            return loads;
        }
    }

    /** Closes every model of this JVM (a later task loads its model again). */
    static void closeAll() {
        synchronized (MODELS) {
            for (AmuletModel m : MODELS.values()) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    LOG.warn("closing {}: {}", m.name(), e.toString());
                }
            }
            MODELS.clear();
            for (RewardModel m : REWARD_MODELS.values()) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    LOG.warn("closing {}: {}", m.name(), e.toString());
                }
            }
            REWARD_MODELS.clear();
        }
    }
}
