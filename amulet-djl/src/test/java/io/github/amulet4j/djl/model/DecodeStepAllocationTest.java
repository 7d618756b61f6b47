package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Allocation per decode step, in a JVM of its own ({@code own-jvm} tag, a separate Surefire execution): what the JIT's
 * escape analysis removes depends on the call sites that other tests made megamorphic before, so the figure is only
 * meaningful in a fresh JVM, as in a user's process.
 */
@Tag("own-jvm")
class DecodeStepAllocationTest {

    /**
     * A decode step of two streams allocates a few KiB on the calling thread, less than one step's activations
     * (about 60 KiB for this shape) or the cache, whatever the weights' format (BF16's kernels reorder their input;
     * Q8_0 and Q4_0 run on the native kernels where the library is loaded, which quantize into a reused buffer).
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = RuntimeOptions.Weights.class,
            names = {"F32", "BF16", "Q8_0", "Q4_0"})
    void aDecodeStepAllocatesNextToNothing(RuntimeOptions.Weights weights) throws Exception {
        assertFewBytesPerStep(weights.name());
    }

    /** The same over a float16 KV cache (where the native attention runs; else it is the float32 run again). */
    @org.junit.jupiter.api.Test
    void aDecodeStepOverAFloat16CacheAllocatesNextToNothing() throws Exception {
        assertFewBytesPerStep(RuntimeOptions.Weights.Q4_0.name(), "F16");
    }

    private static void assertFewBytesPerStep(String... args) throws Exception {
        // each format in a JVM of its own too: the Java kernels' Vector API code of one format, compiled after
        // another's had run in the same JVM, still allocated 18 MB a step after 10,000 steps (a build without the
        // native library), where a fresh JVM allocates next to nothing
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-Xmx2g", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                DecodeStepAllocationTest.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor() == 0, out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("perStep=(\\d+)").matcher(out);
        assertTrue(m.find(), out);
        long perStep = Long.parseLong(m.group(1));
        assertTrue(perStep <= 16 << 10, List.of(args) + ": bytes allocated per step: " + perStep);
    }

    /**
     * Prints {@code perStep=N}: the least bytes a decode step allocated over windows of steps, for format args[0] and
     * the KV cache's precision args[1] (F32 without it).
     */
    public static void main(String[] args) {
        System.out.println("perStep=" + perStep(RuntimeOptions.Weights.valueOf(args[0]), args.length > 1
                ? io.github.amulet4j.transformer.KvCachePrecision.parse(args[1])
                : io.github.amulet4j.transformer.KvCachePrecision.F32));
    }

    private static long perStep(RuntimeOptions.Weights weights, io.github.amulet4j.transformer.KvCachePrecision kv) {
        ModelConfig t = ModelShapes.tinyQwen2();
        ModelConfig c = new ModelConfig(t.architecture(), 512, 2, 8, 2, 64, 1536, t.vocabSize(), 4096, t.normEps(),
                t.ropeTheta(), null, true, true, false, "silu", null, t.eosTokenIds(), "float32", null);
        InMemoryTensorStore store = TestModels.store(c, 74);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().initialCacheCapacity(600)
                .weights(weights).kvCache(kv).build())) {
            int[] tok = new int[2];
            // the least over windows of steps: until the JIT compiled the Vector API code, vectors are objects
            long perStep = Long.MAX_VALUE;
            // (up to 200 windows: on a loaded machine the JIT may take several thousand steps to compile everything;
            // the Java kernels' Q8_0 run of a build without the native library still allocated 14-19 MB a step after
            // 60 windows in two full builds, and none after 20 when the class ran alone; a new session every
            // WINDOWS_A_SESSION windows, outside the windows measured, keeps within the model's 4,096 positions)
            DecodingSession s = null;
            try {
                for (int window = 0; window < 200 && perStep > 4 << 10; window++) {
                    if (window % WINDOWS_A_SESSION == 0) {
                        if (s != null) {
                            s.close();
                        }
                        s = lm.prefill(List.of(TestModels.tokens(c, 40, 1), TestModels.tokens(c, 30, 2)));
                    }
                    int steps = 50;
                    long before = threads.getThreadAllocatedBytes(me);
                    for (int i = 0; i < steps; i++) {
                        tok[0] = (window * steps + i) % c.vocabSize();
                        tok[1] = (5 * i) % c.vocabSize();
                        s.append(tok);
                    }
                    perStep = Math.min(perStep, (threads.getThreadAllocatedBytes(me) - before) / steps);
                }
            } finally {
                if (s != null) {
                    s.close();
                }
            }
            return perStep;
        }
    }

    /** Windows of 50 steps a session: 3,000 steps after a 40-token prompt, within the model's 4,096 positions. */
    private static final int WINDOWS_A_SESSION = 60;
}
