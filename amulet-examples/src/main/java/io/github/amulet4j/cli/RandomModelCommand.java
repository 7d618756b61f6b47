package io.github.amulet4j.cli;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code amulet random-model}: writes a random-weight model folder in the Hugging Face layout (config,
 * safetensors, tokenizer, chat template), so that everything can be tried without a network.
 */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a model folder with random weights, a real tokenizer and a chat template "
                + "(the answers are noise; for trying the tool offline, tests and benchmarks).")
final class RandomModelCommand implements Callable<Integer> {

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "tiny-qwen2",
            description = "tiny-llama, tiny-qwen2, tiny-qwen3, tiny-mistral, tiny-gpt2, tiny-gemma2, tiny-gemma3, "
                    + "tiny-phi3, qwen2.5-0.5b, llama3.2-1b, llama3.1-8b, gemma-2-2b, gemma-3-1b, phi-3.5-mini, "
                    + "phi-4-mini (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "The folder to write (created if needed).")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--weights-dtype", paramLabel = "F32|F16|BF16",
            description = "Stored dtype of the weights (default: F32 for tiny shapes, BF16 for full-size ones).")
    String weightsDtype;

    @Option(names = "--llama-twin", description = "Write the shape's sizes as a plain Llama (same hidden size, "
            + "layers, heads, KV heads, head size, intermediate size, vocabulary and tying; none of the architecture's "
            + "own features): the baseline for comparing an architecture's speed.")
    boolean llamaTwin;

    @Option(names = "--force", description = "Write into a folder that already holds files.")
    boolean force;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RandomModelFolder.Shape s;
        try {
            s = RandomModelFolder.Shape.parse(shape);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--shape: " + e.getMessage());
        }
        SafetensorsDtype dtype = s.isTiny() ? SafetensorsDtype.F32 : SafetensorsDtype.BF16;
        if (weightsDtype != null) {
            dtype = switch (weightsDtype.trim().toUpperCase(Locale.ROOT)) {
                case "F32", "FLOAT32" -> SafetensorsDtype.F32;
                case "F16", "FLOAT16" -> SafetensorsDtype.F16;
                case "BF16", "BFLOAT16" -> SafetensorsDtype.BF16;
                default -> throw new UsageException("--weights-dtype: unknown dtype '" + weightsDtype + "'; valid: F32, F16, BF16");
            };
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out: " + out + " is a file; expected a folder");
        }
        if (!force && Files.isDirectory(out)) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new UsageException("--out: " + out + " is not empty (add --force to write into it)");
                }
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        err.println("random-model: writing " + s.id() + (llamaTwin ? " as a Llama twin" : "") + " (" + dtype + ") to "
                + out + "...");
        err.flush();
        ModelConfig c = RandomModelFolder.write(out, s, seed, dtype, llamaTwin);
        PrintWriter o = spec.commandLine().getOut();
        o.println("wrote " + s.id() + " to " + out + ": " + c.architecture() + ", hidden " + c.hiddenSize() + ", "
                + c.numLayers() + " layers, vocabulary " + c.vocabSize());
        o.println("try: ./amulet generate --model " + out + " --preference concise \"What is the ozone layer?\"");
        o.flush();
        return AmuletCli.OK;
    }
}
