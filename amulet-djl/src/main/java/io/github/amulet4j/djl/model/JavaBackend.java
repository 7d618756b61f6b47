package io.github.amulet4j.djl.model;

import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.JavaForward;
import io.github.amulet4j.transformer.JavaHeap;
import io.github.amulet4j.transformer.JavaWeights;
import io.github.amulet4j.transformer.VectorSupport;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.WeightMatrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java backend (amulet-transformer's {@link JavaForward}): the CPU default for float32 wherever the Vector
 * API runs and the weights fit the Java heap. Starts no engine and maps no native library beyond the JDK.
 */
final class JavaBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(JavaBackend.class);

    /** Java-held weights from this size on trigger one collection after loading (see {@link #load}). */
    private static final long RELEASE_AFTER_LOAD_BYTES = 256L << 20;

    @Override
    public String name() {
        return "Java";
    }

    /**
     * Whether the linear weights are held for the Java kernels (on the Java heap, in the format of
     * {@link RuntimeOptions#weights()}): {@link RuntimeOptions#effectiveLinearKernel()} says JAVA and, when both were
     * AUTO, they fit in the heap the JVM allows.
     */
    @Override
    public boolean accepts(ModelConfig config, TensorStore store, RuntimeOptions options) {
        if (options.effectiveLinearKernel() != RuntimeOptions.LinearKernel.JAVA) {
            if (options.linearKernel() == RuntimeOptions.LinearKernel.AUTO && !options.device().isGpu()
                    && options.computeType() == DataType.FLOAT32 && !VectorSupport.available()) {
                LOG.info("linear layers on PyTorch: the Java kernels (two Amulet streams then cost about what one"
                        + " does) cannot run: {}", VectorSupport.unavailableReason());
            }
            return false;
        }
        // with the native kernels the matrices they multiply live off the heap: the heap holds none of them
        WeightMatrix.Storage storage = options.kernels().resolve() == Kernels.NATIVE
                ? WeightMatrix.Storage.NATIVE : WeightMatrix.Storage.HEAP;
        long need = JavaWeights.heapBytesNeeded(config, store, options.weights().format(), storage);
        long free = JavaHeap.free(need);
        if (need > free) {
            String msg = "the weights need " + (need >> 20) + " MiB of Java heap, the JVM allows " + (free >> 20)
                    + " MiB more (raise -Xmx; the launcher's default is -XX:MaxRAMPercentage=85)";
            if (options.linearKernel() == RuntimeOptions.LinearKernel.JAVA || options.weights().javaOnly()) {
                throw new IllegalStateException("linearKernel JAVA, weights " + options.weights() + ": " + msg);
            }
            LOG.info("linear layers on PyTorch: {}", msg);
            return false;
        }
        return true;
    }

    @Override
    public Loaded load(ModelConfig config, TensorStore store, RuntimeOptions options) {
        JavaForward forward = JavaForward.load(config, store, options.checkpointName(), options.weights().format(),
                options.effectiveProductThreads(), options.kernels(), null, options.weightCache());
        try {
            long heap = forward.footprint().heapBytes();
            if (heap >= RELEASE_AFTER_LOAD_BYTES) {
                // Loading passed every weight through the heap as float32, a MiB at a time, before converting it into
                // its format: gigabytes of short-lived garbage for a large model, which may have grown the heap.
                // One collection now lets the heap shrink back.
                System.gc();
            }
            LOG.info("loaded {} ({}, {} layers, hidden {}) on cpu as float32, weights {}, {} MiB on the Java heap, {}"
                            + " MiB off it, {} thread(s) per product; {}",
                    options.checkpointName(), config.architecture(), config.numLayers(), config.hiddenSize(),
                    options.weights(), heap >> 20, forward.footprint().offHeapBytes() >> 20,
                    options.effectiveProductThreads(), forward.kernels());
            return new Loaded(forward, null);
        } catch (RuntimeException | Error e) {
            forward.close();
            throw e;
        }
    }
}
