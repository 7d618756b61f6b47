package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDManager;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.ForwardPass;

import java.util.List;

/**
 * A way to run a checkpoint's forward pass. {@link DjlCausalLm#load} asks the backends of {@link #ALL} in turn and
 * loads the first that accepts the options; none starts an engine before it is chosen.
 */
interface Backend {

    /** The backends in the order they are asked: the pure-Java pass first, PyTorch for everything else. */
    List<Backend> ALL = List.of(new JavaBackend(), new PyTorchBackend());

    /** A loaded pass, and the engine manager that owns its weights (null where no engine runs). */
    record Loaded(ForwardPass forward, NDManager manager) {
    }

    /** A short name for messages. */
    String name();

    /**
     * Whether this backend runs {@code config} under {@code options}; says why not at info level where the user asked
     * for something it cannot do; starts nothing.
     *
     * @throws IllegalStateException when the options demand this backend and it cannot run (the heap is too small)
     */
    boolean accepts(ModelConfig config, TensorStore store, RuntimeOptions options);

    /** Loads the weights from {@code store} (only read) and returns the pass that runs them. */
    Loaded load(ModelConfig config, TensorStore store, RuntimeOptions options);
}
