package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.DecoderSession;

import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.JavaForward;
import io.github.amulet4j.transformer.JavaForwardSeams;
import io.github.amulet4j.transformer.KvCache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java forward pass ({@link JavaForward}, {@code JavaKvCache}) against the engine's ({@link
 * TransformerForward}, {@code linearKernel ENGINE}, float32) on the same weights: logits at every position of
 * left-padded batches in chunks that do and do not divide the prompt, sessions through select and absorb; and its
 * memory: a long prefill holds the cache plus one chunk's activations, a decode step allocates next to nothing.
 */
class JavaForwardTest {

    static final float TOL = 1e-4f;

    static List<ModelConfig> configs() {
        List<ModelConfig> all = new ArrayList<>(ModelShapes.tinyAll());
        // a window smaller than the prompt
        all.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        // four and six heads per key head (a decode step takes a key head's heads four at a time), with biases, and
        // with a window
        ModelConfig q = ModelShapes.tinyQwen2();
        all.add(new ModelConfig(q.architecture(), 64, 2, 8, 2, 16, 112, q.vocabSize(), 256, q.normEps(), q.ropeTheta(),
                null, true, true, false, "silu", null, q.eosTokenIds(), "float32", null));
        ModelConfig m = ModelShapes.tinyMistral();
        all.add(new ModelConfig(m.architecture(), 48, 2, 12, 2, 16, 80, m.vocabSize(), 256, m.normEps(), m.ropeTheta(),
                null, false, false, false, "silu", 1, m.eosTokenIds(), "float32", 5));
        return all;
    }

    private static RuntimeOptions options(RuntimeOptions.LinearKernel kernel, int chunk) {
        return RuntimeOptions.builder().linearKernel(kernel).prefillChunk(chunk).initialCacheCapacity(4).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyPositionOfAPaddedBatchEqualsTheEngineForEveryChunkSize(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 71);
        // rows of 23, 16 and 9 tokens left-padded to 23 (padding 0, 7 and 14 slots)
        int[] lengths = {23, 16, 9};
        int width = 23;
        int[][] batch = new int[lengths.length][width];
        int[] pad = new int[lengths.length];
        for (int r = 0; r < lengths.length; r++) {
            pad[r] = width - lengths[r];
            System.arraycopy(TestModels.tokens(c, lengths[r], 10 + r), 0, batch[r], pad[r], lengths[r]);
        }
        for (int chunk : new int[] {width, 8, 5, 1}) {
            try (DjlCausalLm java = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.JAVA, chunk));
                 DjlCausalLm engine = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.ENGINE, chunk))) {
                assertInstanceOf(JavaForward.class, java.forward());
                assertInstanceOf(TransformerForward.class, engine.forward());
                float[][] got = allPositions(java, batch, pad, chunk);
                float[][] want = allPositions(engine, batch, pad, chunk);
                for (int i = 0; i < want.length; i++) {
                    float d = TestModels.maxAbsDiff(want[i], got[i]);
                    String where = "chunk " + chunk + " row " + (i / width) + " position " + (i % width)
                            + (i % width < pad[i / width] ? " (padding)" : "");
                    assertTrue(d <= TOL, where + ": " + d);
                }
            }
        }
    }

    /**
     * Shapes for split-slot decode attention: four heads per key head with a window of 40, twelve heads of one key head
     * (two blocks of heads) with a window of 40, and six heads per key head with a window of 5 (most ranges empty).
     */
    static List<ModelConfig> splitConfigs() {
        ModelConfig q = ModelShapes.tinyQwen2();
        ModelConfig m = ModelShapes.tinyMistral();
        return List.of(
                new ModelConfig(q.architecture(), 64, 2, 8, 2, 16, 112, q.vocabSize(), 256, q.normEps(), q.ropeTheta(),
                        null, true, true, false, "silu", null, q.eosTokenIds(), "float32", 40),
                new ModelConfig(m.architecture(), 48, 2, 12, 1, 16, 80, m.vocabSize(), 256, m.normEps(),
                        m.ropeTheta(), null, false, false, false, "silu", 1, m.eosTokenIds(), "float32", 40),
                new ModelConfig(m.architecture(), 48, 2, 12, 2, 16, 80, m.vocabSize(), 256, m.normEps(),
                        m.ropeTheta(), null, false, false, false, "silu", 1, m.eosTokenIds(), "float32", 5));
    }

    /**
     * Split-slot decode attention, forced on with ranges of at least 8 slots (ranges that cut tiles, empty ones with
     * the short window), against the engine: every position of a left-padded batch in chunks of one token (each a
     * decode step; padding positions see no slot) and a session's decode steps after a prefill of unequal prompts.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("splitConfigs")
    void splitSlotDecodeEqualsTheEngine(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 75);
        int[] lengths = {70, 50, 23};
        int width = 70;
        int[][] batch = new int[lengths.length][width];
        int[] pad = new int[lengths.length];
        for (int r = 0; r < lengths.length; r++) {
            pad[r] = width - lengths[r];
            System.arraycopy(TestModels.tokens(c, lengths[r], 20 + r), 0, batch[r], pad[r], lengths[r]);
        }
        try (DjlCausalLm java = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.JAVA, 1));
             DjlCausalLm engine = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.ENGINE, 1))) {
            JavaForward pass = (JavaForward) java.forward();
            JavaForwardSeams.splitSlots(pass, 8, 16);
            assertTrue(JavaForwardSeams.splitRanges(pass, lengths.length, width) > 2, "the split path is taken");
            float[][] got = allPositions(java, batch, pad, 1);
            float[][] want = allPositions(engine, batch, pad, 1);
            for (int i = 0; i < want.length; i++) {
                float d = TestModels.maxAbsDiff(want[i], got[i]);
                String where = "row " + (i / width) + " position " + (i % width)
                        + (i % width < pad[i / width] ? " (padding)" : "");
                assertTrue(d <= TOL, where + ": " + d);
            }
            DecodingSession[] s = new DecodingSession[2];
            DjlCausalLm[] models = {java, engine};
            try {
                for (int m = 0; m < 2; m++) {
                    s[m] = models[m].prefill(List.of(TestModels.tokens(c, 90, 7), TestModels.tokens(c, 61, 8)));
                }
                compare(s, "prefill");
                for (int k = 0; k < 6; k++) {
                    step(s, new int[] {3 * k + 1, 5 * k + 2}, "decode step " + k);
                }
            } finally {
                for (DecodingSession x : s) {
                    if (x != null) {
                        x.close();
                    }
                }
            }
        }
    }

    /** Logits of every position of a left-padded batch, through a fresh cache of the model's own kind. */
    private static float[][] allPositions(DjlCausalLm lm, int[][] batch, int[] pad, int chunk) {
        float[][] every = new float[batch.length * batch[0].length][lm.vocabSize()];
        try (KvCache cache = lm.newCache(batch.length, 4)) {
            lm.forward().runAll(batch, pad, cache, chunk, every);
        }
        return every;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sessionsThroughSelectAndAbsorbEqualTheEngine(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 72);
        try (DjlCausalLm java = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.JAVA, 4));
             DjlCausalLm engine = DjlCausalLm.load(c, store, options(RuntimeOptions.LinearKernel.ENGINE, 4))) {
            DecodingSession[] s = new DecodingSession[2];
            DjlCausalLm[] models = {java, engine};
            try {
                for (int m = 0; m < 2; m++) {
                    s[m] = models[m].prefill(List.of(TestModels.tokens(c, 7, 1), TestModels.tokens(c, 3, 2)));
                }
                compare(s, "prefill");
                step(s, new int[] {4, 5}, "append");
                // newcomers with a longer prompt: both sides are padded on the left
                for (int m = 0; m < 2; m++) {
                    DecodingSession other = models[m].prefill(List.of(TestModels.tokens(c, 12, 3)));
                    other.append(new int[] {6});
                    s[m].absorb(other);
                }
                compare(s, "absorb");
                step(s, new int[] {1, 2, 3}, "append after absorb");
                // a newcomer shorter than the running rows: it is the one padded
                for (int m = 0; m < 2; m++) {
                    DecodingSession other = models[m].prefill(List.of(TestModels.tokens(c, 2, 6)));
                    s[m].absorb(other);
                }
                compare(s, "absorb of a shorter one");
                step(s, new int[] {1, 2, 3, 4}, "append after the second absorb");
                // beams: a row twice, one dropped; then drop the longest so that common padding goes
                for (int m = 0; m < 2; m++) {
                    s[m].select(new int[] {1, 1, 0, 3});
                }
                compare(s, "select");
                step(s, new int[] {7, 8, 9, 5}, "append after select");
                for (int m = 0; m < 2; m++) {
                    s[m].select(new int[] {2, 0});
                }
                step(s, new int[] {10, 11}, "append after shift");
                for (int m = 0; m < 2; m++) {
                    s[m].extend(new int[][] {TestModels.tokens(c, 6, 4), TestModels.tokens(c, 6, 5)});
                }
                compare(s, "extend");
                assertEquals(((DecoderSession) s[1]).cacheSlots(), ((DecoderSession) s[0]).cacheSlots());
            } finally {
                for (DecodingSession x : s) {
                    if (x != null) {
                        x.close();
                    }
                }
            }
        }
    }

    static void step(DecodingSession[] s, int[] tokens, String what) {
        s[0].append(tokens);
        s[1].append(tokens);
        compare(s, what);
    }

    static void compare(DecodingSession[] s, String what) {
        assertEquals(s[1].streams(), s[0].streams());
        for (int i = 0; i < s[0].streams(); i++) {
            float d = TestModels.maxAbsDiff(s[1].logits().row(i), s[0].logits().row(i));
            assertTrue(d <= TOL, what + ", stream " + i + ": " + d);
        }
    }

    /**
     * Two streams of a 1,500-token prompt through an 8-layer model in chunks of 128: the Java arrays the pass holds
     * (cache and scratch) never exceed the cache plus one chunk's activations and a slot's worth of scores per thread
     * (a bound from the shapes with no {@code [T, S]} term), and the engine holds no array beyond the weights.
     */
    @Test
    void longPromptHoldsTheCachePlusOneChunk() {
        int length = 1500;
        int chunk = 128;
        ModelConfig c = TestModels.withLayers(ModelShapes.tinyLlama(), 8, 2048);
        InMemoryTensorStore store = TestModels.store(c, 73);
        List<int[]> prompts = List.of(TestModels.tokens(c, length, 1), TestModels.tokens(c, length - 37, 2));
        RuntimeOptions opts = RuntimeOptions.builder().prefillChunk(chunk).productThreads(2).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
            long weights = engineBytes(lm);
            long[] peak = {0, 0};
            PassSeams.probe(lm.forward(), () -> {
                peak[0] = Math.max(peak[0], PassSeams.heapBytesHeld(lm.forward()));
                peak[1] = Math.max(peak[1], engineBytes(lm) - weights);
            });
            try (DecodingSession s = lm.prefill(prompts)) {
                assertEquals(length, s.length(0));
            }
            long f = 4;
            long streams = prompts.size();
            long cache = 2L * c.numLayers() * streams * c.numKvHeads() * length * c.headDim() * f;
            long rows = streams * chunk;
            long qkv = (long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
            long perRow = 4L * c.hiddenSize() + qkv + (long) c.numHeads() * c.headDim() + 3L * c.intermediateSize()
                    + c.headDim();
            long perThread = (long) JavaForwardSeams.QUERY_BLOCK * length + c.headDim();
            long bound = cache + f * (rows * perRow + 2 * perThread + JavaForwardSeams.LOGIT_GROUP * c.hiddenSize());
            assertTrue(peak[0] >= cache, "the probe saw the cache: " + peak[0]);
            assertTrue(peak[0] <= bound, "peak " + peak[0] + " bytes above the bound " + bound);
            assertEquals(0, peak[1], "engine arrays beyond the weights");
        }
    }

    /** Bytes of live engine arrays under the model's manager (none on the Java pass, which starts no engine). */
    private static long engineBytes(DjlCausalLm lm) {
        long sum = 0;
        if (lm.manager() == null) {
            return 0;
        }
        for (NDArray a : lm.manager().getManagedArrays()) {
            if (!a.isReleased()) {
                sum += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return sum;
    }
}
