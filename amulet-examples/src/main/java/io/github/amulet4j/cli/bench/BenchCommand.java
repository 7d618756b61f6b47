package io.github.amulet4j.cli.bench;

import io.github.amulet4j.benchmarks.decode.BenchMethod;
import io.github.amulet4j.benchmarks.decode.BenchReport;
import io.github.amulet4j.benchmarks.decode.ConversationBench;
import io.github.amulet4j.benchmarks.decode.DecodeBenchmark;
import io.github.amulet4j.benchmarks.decode.DecodeBenchmarkSettings;
import io.github.amulet4j.cli.RuntimeFlags;
import io.github.amulet4j.cli.UsageException;
import io.github.amulet4j.cli.VerboseOption;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.djl.gguf.GgufModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code amulet bench}: the command line of the end-to-end decoding benchmark, {@link DecodeBenchmark} in the
 * {@code benchmarks} module (which runs on the library's public API). It maps its flags onto
 * {@link DecodeBenchmarkSettings}; progress goes to stderr, the table (or with {@code --json} one JSON object) to
 * stdout.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time prefill and decoding of base, pref, la, amulet (closed form and iterative) and the paper's "
                + "way (no KV cache, iterative), with the memory bandwidth bound of this machine (CPU runs only).")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "qwen2.5-0.5b",
            description = "Shape of the random-weight model written to a temporary folder: qwen2.5-0.5b, llama3.2-1b, llama3.1-8b, "
                    + "gemma-2-2b, gemma-3-1b, phi-3.5-mini, phi-4-mini "
                    + "(or a tiny test shape) (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf", description = "Benchmark this model folder or GGUF file instead of random weights.")
    Path model;

    @Option(names = "--new-tokens", paramLabel = "N", defaultValue = "128",
            description = "Tokens generated per method (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "64",
            description = "Tokens of the preference prompt; the base prompt is 16 shorter (default: ${DEFAULT-VALUE}). "
                    + "Each method reports its prefill tokens/s and its peak resident memory with the parts.")
    int promptTokens;



    @Mixin
    RuntimeFlags runtime;

    @Option(names = "--methods", paramLabel = "LIST", split = ",",
            description = "Methods to time, comma-separated: base, pref, la, amulet, amulet-iterative, paper (default: all).")
    List<String> methods;

    @Option(names = "--paper-tokens", paramLabel = "N", defaultValue = "16",
            description = "Tokens generated the paper's way (no KV cache: slow) (default: ${DEFAULT-VALUE}).")
    int paperTokens;

    @Option(names = "--warmup-tokens", paramLabel = "N", defaultValue = "8",
            description = "Tokens of the untimed warm-up runs (default: ${DEFAULT-VALUE}).")
    int warmupTokens;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = "Times each method with a KV cache is timed, the methods taking turns (base, amulet, base, "
                    + "amulet, ...); each result sums its rounds, so that the machine's drift during the run falls on "
                    + "every method alike (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the random weights and prompts (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--bandwidth-mib", paramLabel = "MIB", defaultValue = "1024",
            description = "Size of the buffer the bandwidth probe reads (default: ${DEFAULT-VALUE}).")
    int bandwidthMib;

    @Option(names = "--conversation-turns", paramLabel = "N", defaultValue = "0",
            description = "Instead of the methods: an amulet conversation of N turns (each the previous prompt, its "
                    + "answer and --prompt-tokens new ids), with the prompt cache (--prompt-cache-mib) and then "
                    + "without; prints each turn's time to first token and the cache's hits, tokens reused and bytes "
                    + "held (default: ${DEFAULT-VALUE}, off).")
    int conversationTurns;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DecodeBenchmarkSettings settings = settings();
        PrintWriter err = spec.commandLine().getErr();
        if (conversationTurns < 0) {
            throw new UsageException("--conversation-turns: expected a number >= 0 (0: off), got " + conversationTurns);
        }
        if (conversationTurns > 0) {
            ConversationBench.Report conversation = new ConversationBench(settings, conversationTurns, line -> {
                err.println("bench: " + line);
                err.flush();
            }).run();
            PrintWriter out = spec.commandLine().getOut();
            out.println(json ? conversation.json() : conversation.table());
            out.flush();
            return 0;
        }
        BenchReport report = new DecodeBenchmark(settings, line -> {
            err.println("bench: " + line);
            err.flush();
        }).run();
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? report.json() : report.table());
        out.flush();
        return 0;
    }

    private DecodeBenchmarkSettings settings() {
        DecodeBenchmarkSettings.Builder b = DecodeBenchmarkSettings.builder();
        try {
            b.shape(RandomModelFolder.Shape.parse(shape));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--shape: " + e.getMessage());
        }
        if (model != null) {
            if (GgufModel.isGguf(model.toString()) ? !Files.isRegularFile(model) : !Files.isDirectory(model)) {
                throw new UsageException("--model: " + model + " is not a folder or a .gguf file");
            }
            b.model(model);
        }
        b.runtime(runtime.runtime());
        if (methods != null) {
            List<BenchMethod> list = new ArrayList<>();
            for (String m : methods) {
                try {
                    list.add(BenchMethod.parse(m));
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--methods: " + e.getMessage());
                }
            }
            b.methods(list);
        }
        if (rounds < 1) {
            throw new UsageException("--rounds must be >= 1, got " + rounds);
        }
        try {
            return b.newTokens(newTokens).promptTokens(promptTokens).paperTokens(paperTokens)
                    .warmupTokens(warmupTokens).rounds(rounds).seed(seed).bandwidthBytes((long) bandwidthMib << 20).build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
