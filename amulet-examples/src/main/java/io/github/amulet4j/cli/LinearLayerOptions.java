package io.github.amulet4j.cli;

import io.github.amulet4j.djl.model.RuntimeOptions;
import picocli.CommandLine.Option;

/**
 * How the linear layers run on the CPU ({@code --product-threads}, {@code --linear-kernel}): shared by every
 * command that loads a model, {@code bench} included. The getters validate and name the option on bad input.
 */
public final class LinearLayerOptions {

    @Option(names = "--product-threads", paramLabel = "N", defaultValue = "0",
            description = "Threads that share each linear product on cpu (0 = automatic: the cores, at most 8; "
                    + "default: ${DEFAULT-VALUE}).")
    int productThreads;

    @Option(names = "--linear-kernel", paramLabel = "auto|engine|java", defaultValue = "auto",
            description = "What multiplies the linear layers on cpu: java (Vector API kernels, weights on the Java heap; "
                    + "two streams cost about one), engine (PyTorch), auto (java when the JVM has the Vector API and "
                    + "the dtype is float32; default: ${DEFAULT-VALUE}).")
    String linearKernel;

    /** {@code --product-threads}, checked as {@link RuntimeOptions#requireValidProductThreads(int)}. */
    public int productThreads() {
        try {
            return RuntimeOptions.requireValidProductThreads(productThreads);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--product-threads: " + e.getMessage());
        }
    }

    /** {@code --linear-kernel}, parsed as {@link RuntimeOptions.LinearKernel#parse(String)}. */
    public RuntimeOptions.LinearKernel linearKernel() {
        try {
            return RuntimeOptions.LinearKernel.parse(linearKernel);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--linear-kernel: " + e.getMessage());
        }
    }
}
