package io.github.amulet4j.djl.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.RowSplitPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL's PyTorch engine ({@link TransformerForward}): GPUs, float16, and the engine's linear kernel on the CPU. The
 * engine (and its native libraries) starts in {@link #load}, so only when this backend is chosen.
 */
final class PyTorchBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(PyTorchBackend.class);

    @Override
    public String name() {
        return DjlCausalLm.ENGINE;
    }

    /** Runs every model and option the checks of {@link DjlCausalLm#load} let through. */
    @Override
    public boolean accepts(ModelConfig config, TensorStore store, RuntimeOptions options) {
        return true;
    }

    @Override
    public Loaded load(ModelConfig config, TensorStore store, RuntimeOptions options) {
        Device device = options.device();
        Engine engine = Engine.getEngine(DjlCausalLm.ENGINE);
        if (device.isGpu() && device.getDeviceId() >= engine.getGpuCount()) {
            throw new IllegalStateException("device " + device + " requested but the PyTorch engine sees "
                    + engine.getGpuCount() + " GPU(s); add the CUDA natives (ai.djl.pytorch:pytorch-native-cu*)"
                    + " and a CUDA driver, or use Device.cpu()");
        }
        warnAboutSpinningThreads(device);
        NDManager manager = NDManager.newBaseManager(device, DjlCausalLm.ENGINE);
        RowSplitPool workers = null;
        try {
            EngineWeights weights;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                weights = new EngineWeights(config, store, manager, options.computeType(), options.checkpointName(),
                        options.effectiveProductThreads());
                for (NDArray a : manager.getManagedArrays()) {
                    NDScope.unregister(a);
                }
            }
            LOG.info("loaded {} ({}, {} layers, hidden {}) on {} as {}, linear layers on PyTorch, {} thread(s) per product",
                    options.checkpointName(), config.architecture(), config.numLayers(), config.hiddenSize(), device,
                    options.computeType(), options.effectiveProductThreads());
            workers = new RowSplitPool(options.effectiveProductThreads(), "amulet-product");
            TransformerForward forward = new TransformerForward(config, weights, manager, options.computeType(),
                    RotaryFrequencies.inverseFrequencies(config), workers);
            return new Loaded(forward, manager);
        } catch (RuntimeException | Error e) {
            if (workers != null) {
                workers.close(); // a failed load leaves no thread behind
            }
            manager.close();
            throw e;
        }
    }

    /**
     * PyTorch's OpenMP threads spin while they wait for work unless {@code OMP_WAIT_POLICY=PASSIVE} is set
     * before the process starts. On a CPU shared with other processes a spinning thread takes the core from the
     * one doing the work, and a decode step was measured 5x slower (issue 5). Says so once, at info level.
     */
    private static void warnAboutSpinningThreads(Device device) {
        if (device.isGpu() || spinWarningGiven || System.getenv("OMP_WAIT_POLICY") != null) {
            return;
        }
        String threads = System.getProperty("ai.djl.pytorch.num_threads");
        if ("1".equals(threads) || (threads == null && Runtime.getRuntime().availableProcessors() < 2)) {
            return;
        }
        spinWarningGiven = true;
        LOG.info("OMP_WAIT_POLICY is not set: PyTorch's threads spin while idle, which slows decoding down when other"
                + " processes share the CPU; export OMP_WAIT_POLICY=PASSIVE before starting Java (the amulet launcher does)");
    }

    private static volatile boolean spinWarningGiven;

}
