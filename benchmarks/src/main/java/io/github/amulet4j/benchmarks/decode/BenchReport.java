package io.github.amulet4j.benchmarks.decode;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * Everything one benchmark run measured, printable as a table ({@link #table()}) or as one JSON object
 * ({@link #json()}).
 *
 * @param model            the model benchmarked (a shape name with random weights, or a folder)
 * @param dtype            compute dtype ({@code float32} or {@code float16})
 * @param device           where the model ran ({@code cpu}, {@code gpu(0)}, ...)
 * @param prefPromptTokens tokens of the preference prompt
 * @param basePromptTokens tokens of the base prompt
 * @param machine          CPU, cores, memory, JDK and thread settings
 * @param loadBefore       1-minute load average when the run started
 * @param loadAfter        1-minute load average when the timings ended
 * @param results          one row per method, in order
 * @param residentBytes    resident memory of the process ({@code VmRSS}) at the end of the cached runs
 * @param heapBytes        Java heap committed at that moment
 * @param engineBytes      bytes of the arrays the engine holds for the model (weights) at that moment
 * @param weightBytesPerToken bytes of weights a decode step reads (every linear layer and the head)
 * @param bandwidthStart   memory read bandwidth measured before the model is written and loaded, bytes per second;
 *                         NaN when not measured (GPU runs: host memory does not bound a GPU's decoding)
 * @param bandwidthEnd     the same, measured after the timings (the bound uses the better of the two)
 * @param kvCache          the precision the KV cache held ({@code f32} or {@code f16}: the setting where it applied)
 */
public record BenchReport(String model, String dtype, String device, int prefPromptTokens, int basePromptTokens, Machine machine,
                          double loadBefore, double loadAfter, List<MethodResult> results, long residentBytes,
                          long heapBytes, long engineBytes, long weightBytesPerToken, double bandwidthStart,
                          double bandwidthEnd, String kvCache) {

    /** A report of a run with a float32 KV cache. */
    public BenchReport(String model, String dtype, String device, int prefPromptTokens, int basePromptTokens,
                       Machine machine, double loadBefore, double loadAfter, List<MethodResult> results,
                       long residentBytes, long heapBytes, long engineBytes, long weightBytesPerToken,
                       double bandwidthStart, double bandwidthEnd) {
        this(model, dtype, device, prefPromptTokens, basePromptTokens, machine, loadBefore, loadAfter, results,
                residentBytes, heapBytes, engineBytes, weightBytesPerToken, bandwidthStart, bandwidthEnd, "f32");
    }

    /** Target of issue 5: amulet (closed form) decode tokens/s at least this share of pref's. */
    public static final double AMULET_TARGET = 0.85;
    /** Target of issue 5: pref decoding at least this share of the bandwidth bound. */
    public static final double BOUND_TARGET = 0.60;
    /** Target of issue 5: work outside the forward pass under this share of a token. */
    public static final double OUTSIDE_TARGET = 0.05;
    /** Target of issue 9: peak resident memory of a run at most weights + KV cache + this many bytes. */
    public static final long PEAK_SLACK_BYTES = 1L << 30;

    /**
     * The machine the run used.
     *
     * @param cpu          CPU model name
     * @param cores        processors the JVM sees
     * @param memoryBytes  total memory
     * @param jdk          Java version and VM
     * @param torchThreads the PyTorch intra-op and inter-op thread settings
     * @param ompWaitPolicy the {@code OMP_WAIT_POLICY} environment variable, or "unset"
     */
    public record Machine(String cpu, int cores, long memoryBytes, String jdk, String torchThreads, String ompWaitPolicy) {
    }

    /** The result of {@code method}, or null if it was not run. */
    public MethodResult result(BenchMethod method) {
        for (MethodResult r : results) {
            if (r.method() == method) {
                return r;
            }
        }
        return null;
    }

    /** Whether the host memory bandwidth was measured (CPU runs); the bound and its target exist only then. */
    public boolean bandwidthMeasured() {
        return !Double.isNaN(bandwidthStart) && !Double.isNaN(bandwidthEnd);
    }

    /** The better of the two bandwidth measurements (other processes may load the machine during one of them). */
    public double bandwidth() {
        return Math.max(bandwidthStart, bandwidthEnd);
    }

    /**
     * Native memory other than the Java heap: resident memory minus the committed heap, or 0 when more heap is
     * committed than resident (committed pages that were never touched).
     */
    public long nativeBytes() {
        return Math.max(0, residentBytes - heapBytes);
    }

    /** Decode tokens per second that the bandwidth allows if a step only read the weights once. */
    public double boundTokensPerSecond() {
        return bandwidth() / weightBytesPerToken;
    }

    /** decode tokens/s of {@code method} over pref's, or NaN without pref. */
    public double ratioToPref(MethodResult r) {
        MethodResult pref = result(BenchMethod.PREF);
        return pref == null ? Double.NaN : r.decodeTokensPerSecond() / pref.decodeTokensPerSecond();
    }

    /** The report as a table with the targets of issue 5 and whether each is met. */
    public String table() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "amulet bench: %s, %s on %s, KV cache %s, prompts %d (pref) / %d (base) "
                + "tokens%n", model, dtype, device, kvCache, prefPromptTokens, basePromptTokens));
        s.append(String.format(Locale.ROOT, "machine: %s, %d cores, %.1f GiB; %s; PyTorch threads %s; OMP_WAIT_POLICY=%s%n",
                machine.cpu(), machine.cores(), machine.memoryBytes() / GIB, machine.jdk(), machine.torchThreads(),
                machine.ompWaitPolicy()));
        s.append(String.format(Locale.ROOT, "load average (1 min): %.2f at the start, %.2f at the end%n%n", loadBefore,
                loadAfter));
        s.append(String.format(Locale.ROOT, "%-18s %7s %6s %7s %13s %13s %9s %8s %12s%n", "method", "streams", "cache",
                "tokens", "prefill tok/s", "decode tok/s", "ms/token", "vs pref", "outside fwd"));
        for (MethodResult r : results) {
            s.append(String.format(Locale.ROOT, "%-18s %7d %6s %7d %13.1f %13.2f %9.1f %8s %11.1f%%%n", r.method().id(),
                    r.method().streams(), r.kvCache() ? "yes" : "no", r.newTokens(), r.prefillTokensPerSecond(),
                    r.decodeTokensPerSecond(), r.msPerToken(), fmt(ratioToPref(r), "%.2f"),
                    100 * r.outsideForwardShare()));
        }
        MethodResult paper = result(BenchMethod.PAPER);
        MethodResult amulet = result(BenchMethod.AMULET);
        if (paper != null) {
            s.append(String.format(Locale.ROOT, "%npaper: no KV cache and the iterative step, limited to %d new tokens "
                    + "(each step recomputes the whole prefix)%s%n", paper.newTokens(), amulet == null ? ""
                    : String.format(Locale.ROOT, "; amulet (cache, closed form) is %.1fx faster per token",
                    paper.msPerToken() / amulet.msPerToken())));
        }
        s.append(String.format(Locale.ROOT, "%nmemory at the end: resident %.2f GiB, Java heap committed %.2f GiB, "
                + "native (resident - heap) %.2f GiB, weights (engine + Java heap) %.2f GiB%n", residentBytes / GIB,
                heapBytes / GIB, nativeBytes() / GIB, engineBytes / GIB));
        s.append(String.format(Locale.ROOT, "memory per run (peak resident during it; parts: weights, KV cache, "
                + "temporaries = peak - resident before the run - KV cache, other = JVM, engine, tokenizer):%n"));
        for (MethodResult r : results) {
            MethodResult.Memory m = r.memory();
            if (!m.measured()) {
                s.append(String.format(Locale.ROOT, "  %-18s peak not measured (no /proc/self/clear_refs)%n",
                        r.method().id()));
                continue;
            }
            s.append(String.format(Locale.ROOT, "  %-18s peak %.2f GiB: weights %.2f, KV cache %.3f, temporaries %.2f, "
                    + "other %.2f GiB%n", r.method().id(), m.peakResident() / GIB, m.weights() / GIB, m.kvCache() / GIB,
                    m.temporaries() / GIB, m.other() / GIB));
        }
        if (bandwidthMeasured()) {
            s.append(String.format(Locale.ROOT, "bandwidth: %.1f GB/s (2-thread sum of a buffer far beyond the caches, best of 5; %.1f GB/s at "
                    + "the start, %.1f at the end); weights read per token %.2f GB -> bound %.2f tok/s (%.0f ms/token)%n",
                    bandwidth() / 1e9, bandwidthStart / 1e9, bandwidthEnd / 1e9, weightBytesPerToken / 1e9,
                    boundTokensPerSecond(), 1000 / boundTokensPerSecond()));
        } else {
            s.append(String.format(Locale.ROOT, "bandwidth: not measured (the model ran on %s; the probe reads host memory, "
                    + "which does not bound its decoding); weights read per token %.2f GB%n", device,
                    weightBytesPerToken / 1e9));
        }
        s.append(String.format(Locale.ROOT, "%ntargets (issues 5 and 9):%n"));
        MethodResult pref = result(BenchMethod.PREF);
        if (amulet != null && pref != null) {
            double ratio = ratioToPref(amulet);
            s.append(String.format(Locale.ROOT, "  amulet >= %.2f x pref decode tok/s: %.2f  %s%n", AMULET_TARGET, ratio,
                    met(ratio >= AMULET_TARGET)));
        }
        if (pref != null && !bandwidthMeasured()) {
            s.append(String.format(Locale.ROOT, "  pref >= %.0f%% of the bandwidth bound: not applicable on %s%n",
                    100 * BOUND_TARGET, device));
        } else if (pref != null) {
            double share = pref.decodeTokensPerSecond() / boundTokensPerSecond();
            s.append(String.format(Locale.ROOT, "  pref >= %.0f%% of the bandwidth bound: %.0f%%  %s%n", 100 * BOUND_TARGET,
                    100 * share, met(share >= BOUND_TARGET)));
        }
        for (MethodResult r : new MethodResult[] {pref, amulet}) {
            if (r != null && r.memory().measured()) {
                MethodResult.Memory m = r.memory();
                long limit = m.weights() + m.kvCache() + PEAK_SLACK_BYTES;
                s.append(String.format(Locale.ROOT, "  peak resident <= weights + KV cache + 1 GiB (issue 9, %s, %d prompt "
                        + "tokens): %.2f <= %.2f GiB  %s%n", r.method().id(), prefPromptTokens, m.peakResident() / GIB,
                        limit / GIB, met(m.peakResident() <= limit)));
            }
        }
        if (amulet != null) {
            double outside = amulet.outsideForwardShare();
            s.append(String.format(Locale.ROOT, "  outside the forward pass < %.0f%% of a token (amulet): %.1f%%  %s%n",
                    100 * OUTSIDE_TARGET, 100 * outside, met(outside < OUTSIDE_TARGET)));
        }
        return s.toString();
    }

    /** The report as one JSON object. */
    public String json() {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("dtype", dtype);
        o.addProperty("device", device);
        o.addProperty("kvCache", kvCache);
        o.addProperty("prefPromptTokens", prefPromptTokens);
        o.addProperty("basePromptTokens", basePromptTokens);
        JsonObject m = new JsonObject();
        m.addProperty("cpu", machine.cpu());
        m.addProperty("cores", machine.cores());
        m.addProperty("memoryBytes", machine.memoryBytes());
        m.addProperty("jdk", machine.jdk());
        m.addProperty("torchThreads", machine.torchThreads());
        m.addProperty("ompWaitPolicy", machine.ompWaitPolicy());
        o.add("machine", m);
        o.addProperty("loadAverageStart", loadBefore);
        o.addProperty("loadAverageEnd", loadAfter);
        JsonArray rows = new JsonArray();
        for (MethodResult r : results) {
            JsonObject j = new JsonObject();
            j.addProperty("method", r.method().id());
            j.addProperty("streams", r.method().streams());
            j.addProperty("kvCache", r.kvCache());
            j.addProperty("amuletForm", r.method().method().id().equals("amulet") ? r.method().form().name() : null);
            j.addProperty("prefillTokens", r.prefillTokens());
            j.addProperty("prefillMs", r.prefillNanos() / 1e6);
            j.addProperty("prefillTokensPerSecond", r.prefillTokensPerSecond());
            j.addProperty("newTokens", r.newTokens());
            j.addProperty("decodeTokensPerSecond", r.decodeTokensPerSecond());
            j.addProperty("msPerToken", r.msPerToken());
            double ratio = ratioToPref(r);
            if (!Double.isNaN(ratio)) {
                j.addProperty("ratioToPref", ratio);
            }
            j.addProperty("outsideForwardShare", r.outsideForwardShare());
            if (r.copyMeasured()) {
                j.addProperty("logitsCopyMsPerToken", r.copyNanos() / 1e6 / r.forwardPasses());
            }
            MethodResult.Memory mr = r.memory();
            JsonObject jm = new JsonObject();
            jm.addProperty("residentBeforeBytes", mr.residentBefore());
            if (mr.measured()) {
                jm.addProperty("peakResidentBytes", mr.peakResident());
                jm.addProperty("temporariesBytes", mr.temporaries());
            }
            jm.addProperty("weightBytes", mr.weights());
            jm.addProperty("kvCacheBytes", mr.kvCache());
            jm.addProperty("otherBytes", mr.other());
            j.add("memory", jm);
            rows.add(j);
        }
        o.add("methods", rows);
        JsonObject mem = new JsonObject();
        mem.addProperty("residentBytes", residentBytes);
        mem.addProperty("heapCommittedBytes", heapBytes);
        mem.addProperty("nativeBytes", nativeBytes());
        mem.addProperty("engineArrayBytes", engineBytes);
        o.add("memory", mem);
        o.addProperty("weightBytesPerToken", weightBytesPerToken);
        if (!bandwidthMeasured()) {
            // GPU runs: the host bandwidth says nothing about the device, so no bound is claimed
            return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(o);
        }
        o.addProperty("bandwidthBytesPerSecond", bandwidth());
        o.addProperty("bandwidthStartBytesPerSecond", bandwidthStart);
        o.addProperty("bandwidthEndBytesPerSecond", bandwidthEnd);
        o.addProperty("boundTokensPerSecond", boundTokensPerSecond());
        MethodResult pref = result(BenchMethod.PREF);
        if (pref != null) {
            o.addProperty("prefShareOfBound", pref.decodeTokensPerSecond() / boundTokensPerSecond());
        }
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(o);
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    private static String met(boolean ok) {
        return ok ? "(met)" : "(not met)";
    }

    private static String fmt(double v, String f) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, f, v);
    }
}
