package io.github.amulet4j.cli;

import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.transformer.KvCachePrecision;
import io.github.amulet4j.transformer.weights.Kernels;
import picocli.CommandLine.Option;

/**
 * How a loaded model runs ({@code --device}, {@code --dtype}, {@code --product-threads}, {@code --linear-kernel},
 * {@code --weights}, {@code --prefill-chunk}, {@code --kernels}, {@code --kv-cache}, {@code --prompt-cache-mib}):
 * one picocli mixin for every command that loads a model, {@code bench} included. Each flag maps onto one setter of
 * {@link RuntimeOptions.Builder}, which declares and validates the option; this class only names the flag in the
 * error. A new engine option is one field here and one setter call in {@link #applyTo(RuntimeOptions.Builder)}.
 */
public final class RuntimeFlags {

    @Option(names = "--device", paramLabel = "cpu|gpu", defaultValue = "cpu",
            description = "Where the model runs: cpu, gpu (the first CUDA GPU) or gpu:N (default: ${DEFAULT-VALUE}); "
                    + "gpu needs the CUDA PyTorch natives (see the user guide).")
    String device;

    @Option(names = "--dtype", paramLabel = "float32|float16", defaultValue = "float32",
            description = "Compute dtype of the weights and activations (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--product-threads", paramLabel = "N", defaultValue = "0",
            description = "Threads that share each linear product on cpu (0 = automatic: the cores, at most 8; "
                    + "default: ${DEFAULT-VALUE}).")
    int productThreads;

    @Option(names = "--linear-kernel", paramLabel = "auto|engine|java", defaultValue = "auto",
            description = "What multiplies the linear layers on cpu: java (Vector API kernels, weights on the Java heap; "
                    + "two streams cost about one), engine (PyTorch), auto (java when the JVM has the Vector API and "
                    + "the dtype is float32; default: ${DEFAULT-VALUE}).")
    String linearKernel;

    @Option(names = "--weights", paramLabel = "auto|f32|bf16|f16|q8_0|q4_0", defaultValue = "auto",
            description = "How the java kernels hold the weights: auto keeps the checkpoint's precision (bf16 stays "
                    + "bf16), the others convert on load (q8_0, q4_0: llama.cpp's 8- and 4-bit blocks); all but auto "
                    + "and f32 need the java kernels (default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--kernels", paramLabel = "auto|java|native", defaultValue = "auto",
            description = "Which kernels the java linear kernel multiplies with: native (C, 8-bit and bf16 "
                    + "dot-product instructions; q8_0, q4_0, f16, bf16 and GGUF q4_k, q5_k, q6_k weights; the library "
                    + "is built into the jar where a C compiler was at hand), java (Vector API), auto (native where "
                    + "loaded and supported, else java; default: ${DEFAULT-VALUE}).")
    String kernels;

    @Option(names = "--kv-cache", paramLabel = "f32|f16", defaultValue = "f32",
            description = "Precision of the KV cache's keys and values: f16 halves its memory and the bytes a decode "
                    + "step's attention reads (each key and value rounded to the nearest half, as llama.cpp's default "
                    + "cache); it needs the native attention (the native library; not Gemma 2), else the cache stays "
                    + "f32 with a warning (default: ${DEFAULT-VALUE}).")
    String kvCache;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "" + RuntimeOptions.DEFAULT_PREFILL_CHUNK,
            description = "Most prompt tokens per stream fed through the layers at once: a longer prompt is prefilled in "
                    + "chunks through the KV cache, so its memory grows linearly with its length (default: "
                    + "${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--prompt-cache-mib", paramLabel = "MIB", defaultValue = "" + RuntimeOptions.DEFAULT_PROMPT_CACHE_MIB,
            description = "Memory for the prompt cache: the KV cache of earlier prompts and answers, per stream, so "
                    + "that a conversation's next turn (or the same history under another preference) prefills only "
                    + "its new tokens; least recently used entries are dropped to stay within it; 0 turns it off "
                    + "(default: ${DEFAULT-VALUE}).")
    int promptCacheMib;

    /**
     * Sets every flag on {@code b}.
     *
     * @throws UsageException naming the flag whose value {@link RuntimeOptions} refuses
     */
    public RuntimeOptions.Builder applyTo(RuntimeOptions.Builder b) {
        set("--device", () -> b.device(RuntimeOptions.parseDevice(device)));
        set("--dtype", () -> b.computeType(RuntimeOptions.parseComputeType(dtype)));
        set("--product-threads", () -> b.productThreads(productThreads));
        set("--linear-kernel", () -> b.linearKernel(RuntimeOptions.LinearKernel.parse(linearKernel)));
        set("--weights", () -> b.weights(RuntimeOptions.Weights.parse(weights)));
        set("--prefill-chunk", () -> b.prefillChunk(prefillChunk));
        set("--kernels", () -> b.kernels(Kernels.parse(kernels)));
        set("--kv-cache", () -> b.kvCache(KvCachePrecision.parse(kvCache)));
        set("--prompt-cache-mib", () -> b.promptCacheMib(promptCacheMib));
        return b;
    }

    /** The engine options these flags give, other options at their defaults. */
    public RuntimeOptions runtime() {
        return applyTo(RuntimeOptions.builder()).build();
    }

    private static void set(String flag, Runnable setter) {
        try {
            setter.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UsageException(flag + ": " + e.getMessage(), e);
        }
    }
}
