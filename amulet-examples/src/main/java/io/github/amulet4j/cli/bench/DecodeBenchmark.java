package io.github.amulet4j.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.djl.checkpoint.Checkpoints;
import io.github.amulet4j.djl.checkpoint.ModelConfig;
import io.github.amulet4j.djl.checkpoint.ModelConfigReader;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.gguf.GgufTensorStore;
import io.github.amulet4j.djl.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.djl.model.TensorLayout;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationRequest;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.Generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The end-to-end decoding benchmark of issue 5. It writes a random-weight checkpoint of the chosen shape to a
 * temporary folder as a real Hugging Face model (config, safetensors, tokenizer; deleted afterwards) or takes a
 * model folder, loads it through the normal path ({@link Checkpoints}, {@link DjlCausalLm}, {@link HfTokenizer}),
 * and times every method with the real generation loop ({@link Generator}, greedy, no end-of-sequence stop) after
 * a warm-up. The paper's way (no KV cache, iterative step) runs last on a second load without a cache. Then it
 * measures the memory read bandwidth and relates pref decoding to the bound it implies; on a GPU the host's
 * bandwidth bounds nothing, so it is not measured there.
 */
public final class DecodeBenchmark {

    /** The base prompt is this much shorter than the preference prompt (it lacks the preference). */
    static final int PREFERENCE_TOKENS = 16;

    private final BenchSettings settings;
    private final Consumer<String> progress;

    /**
     * @param settings what to measure
     * @param progress receives one line per phase (for a terminal); never the results
     */
    public DecodeBenchmark(BenchSettings settings, Consumer<String> progress) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.progress = Objects.requireNonNull(progress, "progress");
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
            return measure(dir, name, loadBefore, bandwidthStart);
        } finally {
            if (temp != null) {
                deleteTree(temp);
            }
        }
    }

    private BenchReport measure(Path dir, String name, double loadBefore, double bandwidthStart) throws IOException {
        boolean gguf = GgufModel.isGguf(dir.toString());
        ModelConfig config;
        HfTokenizer loaded;
        if (gguf) {
            try (GgufModel g = GgufModel.open(dir)) {
                config = g.config();
                loaded = g.tokenizer();
            }
        } else {
            config = ModelConfigReader.readFolder(dir);
            loaded = HfTokenizer.load(dir);
        }
        List<MethodResult> results = new ArrayList<>();
        long resident;
        long heap;
        long engine;
        try (HfTokenizer tokenizer = loaded) {
            int vocab = Math.min(config.vocabSize(), tokenizer.vocabularySize());
            SplittableRandom rnd = new SplittableRandom(settings.seed());
            int[] pref = rnd.ints(settings.promptTokens(), 0, vocab).toArray();
            int[] base = rnd.ints(settings.promptTokens() - PREFERENCE_TOKENS, 0, vocab).toArray();
            List<BenchMethod> cached = settings.methods().stream().filter(BenchMethod::kvCache).toList();
            try (DjlCausalLm lm = load(config, dir, name, true)) {
                TimedCausalLm timed = new TimedCausalLm(lm);
                Generator generator = new Generator(timed, tokenizer, GenerationConfig.defaults());
                if (settings.warmupTokens() > 0 && !cached.isEmpty()) {
                    progress.accept("warming up ...");
                    for (BenchMethod m : List.of(BenchMethod.PREF, BenchMethod.AMULET)) {
                        generate(generator, timed, m, base, pref, settings.warmupTokens());
                    }
                }
                for (BenchMethod m : cached) {
                    progress.accept("timing " + m.id() + " (" + settings.newTokens() + " tokens) ...");
                    results.add(generate(generator, timed, m, base, pref, settings.newTokens()));
                }
                System.gc();
                resident = MachineProbe.residentBytes();
                heap = Runtime.getRuntime().totalMemory();
                engine = engineBytes(lm);
                linearOnHeap = lm.linearLayersOnHeap();
                weightFormats = lm.weightFormats();
                weightBytesPerToken = lm.weightBytesPerToken();
            }
            if (settings.methods().contains(BenchMethod.PAPER)) {
                int tokens = Math.min(settings.paperTokens(), settings.newTokens());
                try (DjlCausalLm lm = load(config, dir, name, false)) {
                    TimedCausalLm timed = new TimedCausalLm(lm);
                    Generator generator = new Generator(timed, tokenizer, GenerationConfig.defaults());
                    if (settings.warmupTokens() > 0) {
                        generate(generator, timed, BenchMethod.PAPER, base, pref, 2);
                    }
                    progress.accept("timing paper (no cache, iterative; " + tokens + " tokens) ...");
                    results.add(generate(generator, timed, BenchMethod.PAPER, base, pref, tokens));
                }
            }
        }
        double loadAfter = MachineProbe.loadAverage();
        double bandwidthEnd = Double.NaN;
        if (!settings.runtime().device().isGpu()) {
            progress.accept("measuring memory bandwidth again ...");
            bandwidthEnd = MachineProbe.readBandwidth(settings.bandwidthBytes(), 5);
        }
        long weightBytes = linearOnHeap ? weightBytesPerToken
                : weightElementsPerToken(config) * settings.runtime().computeType().getNumOfBytes();
        return new BenchReport(name, settings.runtime().computeType() == DataType.FLOAT16 ? "float16" : "float32",
                deviceName(),
                settings.promptTokens(), settings.promptTokens() - PREFERENCE_TOKENS, machine(productThreadsLabel()), loadBefore, loadAfter,
                results, resident, heap, engine, weightBytes, bandwidthStart, bandwidthEnd);
    }

    /** {@code cpu} or {@code gpu(N)}. */
    private String deviceName() {
        return settings.runtime().device().isGpu() ? "gpu(" + settings.runtime().device().getDeviceId() + ")" : "cpu";
    }

    private DjlCausalLm load(ModelConfig config, Path dir, String name, boolean kvCache) throws IOException {
        progress.accept("loading " + name + " (" + settings.runtime().computeType() + " on " + deviceName()
                + (kvCache ? "" : ", no KV cache") + ") ...");
        RuntimeOptions options = settings.runtime().toBuilder().useKvCache(kvCache)
                .checkpointName(name).initialCacheCapacity(cacheCapacity()).build();
        try (TensorStore store = GgufModel.isGguf(dir.toString()) ? GgufTensorStore.open(dir) : Checkpoints.open(dir)) {
            return DjlCausalLm.load(config, store, options);
        }
    }

    private MethodResult generate(Generator generator, TimedCausalLm timed, BenchMethod m, int[] base, int[] pref,
                                  int tokens) {
        GenerationConfig config = GenerationConfig.builder().method(m.method()).amuletForm(m.form())
                .maxNewTokens(tokens).build();
        GenerationRequest request = GenerationRequest.of(base, pref).withConfig(config);
        System.gc();
        boolean peakReset = MachineProbe.resetPeakResident();
        long before = MachineProbe.residentBytes();
        timed.reset();
        GenerationResult r = generator.generate(request);
        // the kernel's resident counters lag a little: the peak is never below what was resident at the start
        long peak = peakReset ? Math.max(before, MachineProbe.peakResidentBytes()) : -1;
        if (r.generatedTokens() != tokens) {
            throw new IllegalStateException(m.id() + ": generated " + r.generatedTokens() + " tokens, expected " + tokens
                    + " (" + r.finishReason() + ")");
        }
        int prefillTokens = (m.method().needsBase() ? base.length : 0) + (m.method().needsPreference() ? pref.length : 0);
        MethodResult.Memory memory = new MethodResult.Memory(before, peak, timed.model().weightBytes(),
                m.kvCache() ? kvCacheBytes(timed.model().config(), m.streams(), cacheCapacity(),
                        settings.runtime().computeType().getNumOfBytes()) : 0);
        return new MethodResult(m, m.kvCache(), prefillTokens, r.prefillNanos(), tokens, timed.appends(),
                r.decodeNanos(), timed.appendNanos(), timed.appendCopyNanos(), memory);
    }

    /** Slots each KV cache is made with: the prompt and every new token fit without growing it. */
    private int cacheCapacity() {
        return settings.promptTokens() + settings.newTokens() + 1;
    }

    /** Bytes of a KV cache: keys and values of every layer, {@code [streams, kvHeads, capacity, headDim]} each. */
    static long kvCacheBytes(ModelConfig config, int streams, int capacity, int bytesPerValue) {
        return 2L * config.numLayers() * streams * config.numKvHeads() * capacity * config.headDim() * bytesPerValue;
    }

    /**
     * Weight elements a decode step reads: every tensor of the checkpoint except embedding tables that are only
     * looked up (a tied embedding is read in full as the output head).
     */
    static long weightElementsPerToken(ModelConfig config) {
        long total = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            String n = e.getKey();
            boolean lookupOnly = n.endsWith("wpe.weight")
                    || (!config.tieWordEmbeddings() && (n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight")));
            if (lookupOnly) {
                continue;
            }
            long numel = 1;
            for (long d : e.getValue()) {
                numel *= d;
            }
            total += numel;
        }
        return total;
    }

    private static long engineBytes(DjlCausalLm lm) {
        return lm.weightBytes();
    }

    /** The threads per product and the linear kernel the runs used, e.g. {@code 2 (auto); linear layers java}. */
    private String productThreadsLabel() {
        RuntimeOptions o = settings.runtime();
        return o.effectiveProductThreads() + (o.productThreads() == 0 ? " (auto)" : "") + "; linear layers "
                + (linearOnHeap ? "java (Vector API, weights " + weightFormats + " off the Java heap)" : "engine (PyTorch)");
    }

    /** Whether the cached model ran its linear layers as Java kernels (set after loading it). */
    private boolean linearOnHeap;
    /** The formats of the Java kernels' weights and the bytes a decode step reads (set after loading). */
    private String weightFormats = "";
    private long weightBytesPerToken;

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

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
