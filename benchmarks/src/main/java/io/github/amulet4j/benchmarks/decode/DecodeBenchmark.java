package io.github.amulet4j.benchmarks.decode;

import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.decode.HistoryProcessor;
import io.github.amulet4j.decode.TokenHistory;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelMemory;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.GenerationStats;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.WeightFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The end-to-end decoding benchmark (issue 5), on the library's public API only. It writes a random-weight model
 * of the chosen shape to a temporary folder as a real Hugging Face model ({@link RandomModelFolder}: config,
 * safetensors, tokenizer; deleted afterwards) or takes a model folder or GGUF file, loads it with
 * {@link AmuletModel#load(ModelOptions)}, and times every method with the real generation loop
 * ({@link AmuletModel#generateTokenIds}: prompts of exact lengths from random token ids, greedy, end-of-sequence
 * tokens suppressed so that every run generates its tokens) after a warm-up. The timings are each request's
 * {@link GenerationStats}; the memory figures come from {@link AmuletModel#memory()}. The paper's way (no KV cache,
 * iterative step) runs last on a second load without a cache. Then it measures the memory read bandwidth and relates
 * pref decoding to the bound it implies; on a GPU the host's bandwidth bounds nothing, so it is not measured there.
 *
 * <pre>{@code
 * DecodeBenchmarkSettings settings = DecodeBenchmarkSettings.builder()
 *         .shape(RandomModelFolder.Shape.parse("qwen2.5-0.5b")).newTokens(64).build();
 * BenchReport report = new DecodeBenchmark(settings).run();
 * System.out.println(report.table());   // or report.json()
 * }</pre>
 */
public final class DecodeBenchmark {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeBenchmark.class);

    /** The base prompt is this much shorter than the preference prompt (it lacks the preference). */
    public static final int PREFERENCE_TOKENS = 16;

    private final DecodeBenchmarkSettings settings;
    private final Consumer<String> progress;

    /**
     * @param settings what to measure
     * @param progress receives one line per phase (for a terminal); never the results
     */
    public DecodeBenchmark(DecodeBenchmarkSettings settings, Consumer<String> progress) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** A benchmark that logs its progress (SLF4J, info). */
    public DecodeBenchmark(DecodeBenchmarkSettings settings) {
        this(settings, LOG::info);
    }

    /** Runs the benchmark. @throws IOException when the model cannot be written or read */
    public BenchReport run() throws IOException {
        double loadBefore = MachineProbe.loadAverage();
        double bandwidthStart = Double.NaN;
        if (!settings.runtime().device().isGpu()) {
            progress.accept("measuring memory bandwidth ...");
            bandwidthStart = MachineProbe.readBandwidth(settings.bandwidthBytes(), 5);
        }
        System.gc();
        double bandwidth = bandwidthStart;
        return onModel(settings, progress, (dir, name) -> measure(dir, name, loadBefore, bandwidth));
    }

    /** What runs on the benchmark's model folder. */
    interface ModelRun<T> {
        T run(Path dir, String name) throws IOException;
    }

    /**
     * Runs {@code body} on the settings' model (its absolute path and display name), or on a random-weight model of
     * the settings' shape written to a temporary folder that is deleted afterwards.
     */
    static <T> T onModel(DecodeBenchmarkSettings settings, Consumer<String> progress, ModelRun<T> body)
            throws IOException {
        Path dir = settings.model();
        Path temp = null;
        String name;
        if (dir == null) {
            temp = Files.createTempDirectory("amulet-bench-");
            dir = temp;
            name = settings.shape().id() + " (random weights)";
            progress.accept("writing a random " + settings.shape().id() + " checkpoint to " + temp + " ...");
            RandomModelFolder.write(temp, settings.shape(), settings.seed(), SafetensorsDtype.BF16);
        } else {
            name = dir.toString();
        }
        try {
            return body.run(dir.toAbsolutePath(), name);
        } finally {
            if (temp != null) {
                deleteTree(temp);
            }
        }
    }

    /** The prompts of every run: random ids below the smaller of the model's and the tokenizer's vocabulary. */
    private record Prompts(int[] base, int[] pref, NoEndOfSequence noEos) {
    }

    private BenchReport measure(Path dir, String name, double loadBefore, double bandwidthStart) throws IOException {
        List<MethodResult> results = new ArrayList<>();
        List<BenchMethod> cached = settings.methods().stream().filter(BenchMethod::kvCache).toList();
        Prompts prompts;
        long resident;
        long heap;
        ModelMemory memory;
        String kvCache;
        try (AmuletModel model = load(dir, name, true)) {
            prompts = prompts(model);
            if (settings.warmupTokens() > 0 && !cached.isEmpty()) {
                progress.accept("warming up ...");
                for (BenchMethod m : warmupMethods(cached)) {
                    generate(model, m, prompts, settings.warmupTokens());
                }
            }
            Map<BenchMethod, List<MethodResult>> rounds = new EnumMap<>(BenchMethod.class);
            for (int round = 1; round <= settings.rounds(); round++) {
                for (BenchMethod m : cached) {
                    progress.accept("timing " + m.id() + " (" + settings.newTokens() + " tokens"
                            + (settings.rounds() > 1 ? ", round " + round + " of " + settings.rounds() : "") + ") ...");
                    rounds.computeIfAbsent(m, k -> new ArrayList<>()).add(generate(model, m, prompts,
                            settings.newTokens()));
                }
            }
            for (BenchMethod m : cached) {
                results.add(MethodResult.sum(rounds.get(m)));
            }
            System.gc();
            resident = MachineProbe.residentBytes();
            heap = Runtime.getRuntime().totalMemory();
            memory = model.memory();
            kvCache = model.kvCachePrecision().name().toLowerCase(java.util.Locale.ROOT);
        }
        if (settings.methods().contains(BenchMethod.PAPER)) {
            int tokens = Math.min(settings.paperTokens(), settings.newTokens());
            try (AmuletModel model = load(dir, name, false)) {
                if (settings.warmupTokens() > 0) {
                    generate(model, BenchMethod.PAPER, prompts, 2);
                }
                progress.accept("timing paper (no cache, iterative; " + tokens + " tokens) ...");
                results.add(generate(model, BenchMethod.PAPER, prompts, tokens));
            }
        }
        double loadAfter = MachineProbe.loadAverage();
        double bandwidthEnd = Double.NaN;
        if (!settings.runtime().device().isGpu()) {
            progress.accept("measuring memory bandwidth again ...");
            bandwidthEnd = MachineProbe.readBandwidth(settings.bandwidthBytes(), 5);
        }
        return new BenchReport(name, settings.runtime().computeType() == DataType.FLOAT16 ? "float16" : "float32",
                deviceName(), settings.promptTokens(), settings.promptTokens() - PREFERENCE_TOKENS,
                machine(productThreadsLabel(memory)), loadBefore, loadAfter, results, resident, heap,
                memory.weightBytes(), memory.weightBytesPerToken(), bandwidthStart, bandwidthEnd, kvCache);
    }

    /**
     * The warm-up runs: one stream and two (pref, amulet), then every other method to be timed, each on its own
     * prompt. A timed method whose prompt length or stream count no warm-up run had would otherwise meet code paths
     * the JIT has not compiled yet (base's prompt is shorter than pref's: on the Qwen2.5-0.5B shape at 512 prompt
     * tokens, its first decode steps took attention's unsplit path, never run before, and paid 0.2-0.3 s for its
     * compilation inside the timed tokens).
     */
    static List<BenchMethod> warmupMethods(List<BenchMethod> timed) {
        List<BenchMethod> runs = new ArrayList<>(List.of(BenchMethod.PREF, BenchMethod.AMULET));
        for (BenchMethod m : timed) {
            if (m.kvCache() && !runs.contains(m)) {
                runs.add(m);
            }
        }
        return runs;
    }

    private Prompts prompts(AmuletModel model) {
        ModelConfig config = model.config();
        int vocab = Math.min(config.vocabSize(), model.prompts().tokenizer().vocabularySize());
        SplittableRandom rnd = new SplittableRandom(settings.seed());
        int[] pref = rnd.ints(settings.promptTokens(), 0, vocab).toArray();
        int[] base = rnd.ints(settings.promptTokens() - PREFERENCE_TOKENS, 0, vocab).toArray();
        return new Prompts(base, pref, new NoEndOfSequence(model.prompts().eosTokenIds().stream()
                .mapToInt(Integer::intValue).toArray()));
    }

    /** {@code cpu} or {@code gpu(N)}. */
    private String deviceName() {
        return settings.runtime().device().isGpu() ? "gpu(" + settings.runtime().device().getDeviceId() + ")" : "cpu";
    }

    private AmuletModel load(Path dir, String name, boolean kvCache) throws IOException {
        progress.accept("loading " + name + " (" + settings.runtime().computeType() + " on " + deviceName()
                + (kvCache ? "" : ", no KV cache") + ") ...");
        // the prompt cache off: every method runs the same prompts again, and the benchmark times the model's own
        // prefill and decode (examples' ConversationTurns measures the cache on a conversation)
        RuntimeOptions runtime = settings.runtime().toBuilder().useKvCache(kvCache)
                .initialCacheCapacity(cacheCapacity()).promptCacheMib(0).build();
        return AmuletModel.load(ModelOptions.builder().model(dir).runtime(runtime).build());
    }

    private MethodResult generate(AmuletModel model, BenchMethod m, Prompts prompts, int tokens) {
        GenerationConfig config = GenerationConfig.builder().method(m.method()).amuletForm(m.form())
                .maxNewTokens(tokens).processorAfterStep(prompts.noEos()).build();
        GenerationRequest request = GenerationRequest.of(prompts.base(), prompts.pref()).withConfig(config);
        System.gc();
        boolean peakReset = MachineProbe.resetPeakResident();
        long before = MachineProbe.residentBytes();
        GenerationResult r = model.generateTokenIds(request, TokenListener.NONE);
        // the kernel's resident counters lag a little: the peak is never below what was resident at the start
        long peak = peakReset ? Math.max(before, MachineProbe.peakResidentBytes()) : -1;
        if (r.generatedTokens() != tokens) {
            throw new IllegalStateException(m.id() + ": generated " + r.generatedTokens() + " tokens, expected " + tokens
                    + " (" + r.finishReason() + ")");
        }
        GenerationStats s = r.stats();
        ModelMemory memory = model.memory();
        MethodResult.Memory runMemory = new MethodResult.Memory(before, peak, memory.weightBytes(),
                m.kvCache() ? memory.kvCacheBytes(m.streams(), cacheCapacity()) : 0);
        return new MethodResult(m, m.kvCache(), s.promptTokens(), s.prefillNanos(), tokens, s.decodeSteps(),
                s.decodeNanos(), s.decodeForwardNanos(), MethodResult.NOT_MEASURED, runMemory);
    }

    /** Slots each KV cache is made with: the prompt and every new token fit without growing it. */
    private int cacheCapacity() {
        return settings.promptTokens() + settings.newTokens() + 1;
    }

    /**
     * Weight elements a decode step of {@code config}'s model reads (see {@link ModelMemory#weightElementsPerToken}).
     */
    public static long weightElementsPerToken(ModelConfig config) {
        return ModelMemory.weightElementsPerToken(config);
    }

    /**
     * The threads per product and the linear kernels the runs used, e.g. {@code 2 (auto); linear layers native
     * (avx512-vnni) for Q4_0, weights Q4_0 off the Java heap}: the kernels that really multiply, the
     * {@link RuntimeOptions#kernels()} setting resolved for this JVM and CPU and each format held.
     */
    private String productThreadsLabel(ModelMemory memory) {
        RuntimeOptions o = settings.runtime();
        String prefix = o.effectiveProductThreads() + (o.productThreads() == 0 ? " (auto)" : "") + "; linear layers ";
        if (!memory.javaKernels()) {
            return prefix + "engine (PyTorch)";
        }
        // with the native kernels the matrices they multiply live off the Java heap (WeightMatrix.Storage)
        boolean nativeKernels = o.kernels().resolve() == Kernels.NATIVE;
        return prefix + kernelsLabel(o.kernels(), memory.weightFormats()) + ", weights " + memory.weightFormats()
                + (nativeKernels ? " off the Java heap" : " on the Java heap");
    }

    /**
     * Which kernels multiply weights held in {@code formats} ({@code Q4_0+F16}, ...) under the setting
     * {@code kernels}: {@code java (Vector API)}, {@code native (avx512-vnni) for Q4_0}, or both, naming the
     * formats each takes.
     */
    static String kernelsLabel(Kernels kernels, String formats) {
        if (kernels.resolve() == Kernels.JAVA) {
            return "java (Vector API)";
        }
        List<String> parts = new ArrayList<>();
        List<String> javaFormats = new ArrayList<>();
        for (String f : formats.split("\\+")) {
            if (f.isEmpty()) {
                continue;
            }
            WeightFormat format = WeightFormat.valueOf(f);
            if (NativeKernels.supports(format)) {
                parts.add("native (" + NativeKernels.variantName(format) + ") for " + f);
            } else {
                javaFormats.add(f);
            }
        }
        if (!javaFormats.isEmpty()) {
            parts.add("java (Vector API) for " + String.join("+", javaFormats));
        }
        return parts.isEmpty() ? "java (Vector API)" : String.join(", ", parts);
    }

    private static BenchReport.Machine machine(String productThreads) {
        String intra = System.getProperty("ai.djl.pytorch.num_threads", "default");
        String inter = System.getProperty("ai.djl.pytorch.num_interop_threads", "default");
        String omp = System.getenv("OMP_WAIT_POLICY");
        return new BenchReport.Machine(MachineProbe.cpuModel(), Runtime.getRuntime().availableProcessors(),
                MachineProbe.totalMemoryBytes(), "Java " + System.getProperty("java.version") + " ("
                + System.getProperty("java.vm.name") + ")", "intra-op " + intra + ", inter-op " + inter
                + "; threads per one-column product " + productThreads,
                omp == null ? "unset" : omp);
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Masks the model's end-of-sequence ids after the step (Hugging Face's {@code min_new_tokens} does the same), so
     * that a random model runs to {@code maxNewTokens} as the timings need; it costs a few stores per token.
     */
    static final class NoEndOfSequence implements HistoryProcessor {
        private final int[] ids;

        NoEndOfSequence(int[] ids) {
            this.ids = ids.clone();
        }

        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
            for (int id : ids) {
                if (id < vocab) {
                    logits[off + id] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
