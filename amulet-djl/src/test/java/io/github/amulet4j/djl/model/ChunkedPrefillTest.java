package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.DecoderSession;

import io.github.amulet4j.formats.checkpoint.ModelShapes;

import ai.djl.ndarray.NDArray;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prefill in chunks through the KV cache: logits at every position equal the naive reference and the unchunked pass
 * for chunk sizes that do and do not divide the prompt, padded batches equal single requests, and the memory a long
 * prefill holds stays under a bound computed from the shapes.
 */
class ChunkedPrefillTest {

    static final float TOL = 1e-4f;
    static final int PROMPT = 36;
    /** The whole prompt, a divisor of it, one that is not, and one token at a time. */
    static final int[] CHUNKS = {PROMPT, 12, 7, 1};

    static List<ModelConfig> configs() {
        List<ModelConfig> all = new ArrayList<>(ModelShapes.tinyAll());
        all.add(ModelShapes.tinyMistral().withSlidingWindow(5));
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyPositionEqualsReferenceAndUnchunkedForEveryChunkSize(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 61);
        int[] prompt = TestModels.tokens(c, PROMPT, 9);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        float[][] whole = null;
        for (RuntimeOptions.LinearKernel kernel : RuntimeOptions.LinearKernel.values()) {
            for (int chunk : CHUNKS) {
                RuntimeOptions opts = RuntimeOptions.builder().prefillChunk(chunk).linearKernel(kernel).build();
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
                    float[][] got = lm.logitsAllPositions(prompt);
                    if (whole == null) {
                        whole = got;
                    }
                    for (int t = 0; t < PROMPT; t++) {
                        String at = kernel + " chunk " + chunk + " position " + t;
                        assertTrue(TestModels.maxAbsDiff(want[t], got[t]) <= TOL, at + " vs reference");
                        assertTrue(TestModels.maxAbsDiff(whole[t], got[t]) <= TOL, at + " vs unchunked");
                    }
                    try (DecodingSession s = lm.prefill(List.of(prompt))) {
                        float d = TestModels.maxAbsDiff(want[PROMPT - 1], s.logits().row(0));
                        assertTrue(d <= TOL, kernel + " chunk " + chunk + " session prefill: " + d);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void leftPaddedBatchInChunksEqualsEachRequestAlone(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 62);
        // padding of 11, 4 and 15 slots: chunks of 3 hold some rows' padding only
        List<int[]> prompts = List.of(TestModels.tokens(c, 6, 1), TestModels.tokens(c, 17, 2),
                TestModels.tokens(c, 13, 3), TestModels.tokens(c, 2, 4));
        RuntimeOptions opts = RuntimeOptions.builder().prefillChunk(3).initialCacheCapacity(4).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts); DecodingSession batch = lm.prefill(prompts)) {
            NaiveReference reference = new NaiveReference(c, store);
            int[] next = {5, 9, 1, 7};
            for (int step = 0; step < 3; step++) {
                if (step > 0) {
                    batch.append(next);
                }
                Logits got = batch.logits();
                for (int i = 0; i < prompts.size(); i++) {
                    int[] history = prompts.get(i);
                    if (step > 0) {
                        history = java.util.Arrays.copyOf(history, history.length + step);
                        for (int k = 0; k < step; k++) {
                            history[prompts.get(i).length + k] = next[i];
                        }
                    }
                    float[] want = reference.logits(history)[history.length - 1];
                    float d = TestModels.maxAbsDiff(want, 0, got.data(), got.offset(i), c.vocabSize());
                    assertTrue(d <= TOL, "stream " + i + " step " + step + ": " + d);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void attentionInBlocksOfQueriesEqualsTheReference(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 65);
        int[] prompt = TestModels.tokens(c, PROMPT, 10);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        List<int[]> batch = List.of(TestModels.tokens(c, 9, 1), prompt);
        // one query per block, then blocks of 5 (which do not divide the chunk of 12), in chunks and in one pass
        long rowBytes = 4L * batch.size() * c.numHeads() * PROMPT;
        for (long budget : new long[] {1, 5 * rowBytes}) {
            for (int chunk : new int[] {12, PROMPT}) {
                RuntimeOptions opts = RuntimeOptions.builder().prefillChunk(chunk).build();
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
                    PassSeams.attentionBlockBytes(lm.forward(), budget);
                    float[][] got = lm.logitsAllPositions(prompt);
                    for (int t = 0; t < PROMPT; t++) {
                        float d = TestModels.maxAbsDiff(want[t], got[t]);
                        assertTrue(d <= TOL, "budget " + budget + " chunk " + chunk + " position " + t + ": " + d);
                    }
                    // a padded batch: the mask is cut into the same blocks
                    try (DecodingSession s = lm.prefill(batch)) {
                        float d = TestModels.maxAbsDiff(want[PROMPT - 1], s.logits().row(1));
                        assertTrue(d <= TOL, "budget " + budget + " chunk " + chunk + " padded batch: " + d);
                    }
                }
            }
        }
    }

    @Test
    void aCacheSizedForALongPromptGrowsByAQuarterNotDoubling() {
        ModelConfig c = TestModels.withMaxPositions(ModelShapes.tinyQwen2(), 2048);
        InMemoryTensorStore store = TestModels.store(c, 64);
        int[] prompt = TestModels.tokens(c, 600, 3);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().initialCacheCapacity(4).build());
             DecodingSession s = lm.prefill(List.of(prompt))) {
            DecoderSession session = (DecoderSession) s;
            assertEquals(600, session.cacheCapacity(), "the prefill reserves the prompt");
            s.append(new int[] {1});
            assertEquals(600 + 150, session.cacheCapacity(), "a quarter more, not twice the prompt");
            int[] all = java.util.Arrays.copyOf(prompt, 601);
            all[600] = 1;
            float[] want = lm.logitsAllPositions(all)[600];
            assertTrue(TestModels.maxAbsDiff(want, s.logits().row(0)) <= TOL, "logits after the growth");
        }
    }

    @Test
    void chunkMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.builder().prefillChunk(0));
        assertTrue(e.getMessage().contains("prefillChunk") && e.getMessage().contains("got 0"), e.getMessage());
        assertEquals(RuntimeOptions.DEFAULT_PREFILL_CHUNK, RuntimeOptions.defaults().prefillChunk());
    }

    /**
     * Two streams of a 1,500-token prompt through an 8-layer model: the native arrays alive beyond the weights
     * plus the Java arrays of the heap products never exceed the KV cache plus one chunk's attention scores,
     * mask and activations (a bound that does not grow with the layers and grows linearly with the prompt).
     * Unchunked, the same prompt exceeds it (scores of [B, heads, T, T]): the bound is tight enough to mean something.
     */
    @Test
    void longPromptPeakMemoryStaysUnderTheShapeBound() {
        int layers = 8;
        int length = 1500;
        int chunk = 128;
        ModelConfig c = TestModels.withLayers(ModelShapes.tinyLlama(), layers, 2048);
        InMemoryTensorStore store = TestModels.store(c, 63);
        List<int[]> prompts = List.of(TestModels.tokens(c, length, 1), TestModels.tokens(c, length - 37, 2));
        long bound = shapeBound(c, prompts.size(), length, chunk, chunk);
        for (RuntimeOptions.LinearKernel kernel : new RuntimeOptions.LinearKernel[] {
                RuntimeOptions.LinearKernel.ENGINE, RuntimeOptions.LinearKernel.JAVA}) {
            long peak = peakPrefillBytes(c, store, prompts, chunk, kernel, 0);
            assertTrue(peak <= bound, kernel + ": peak " + peak + " bytes above the bound " + bound);
            assertTrue(peak > 0, "the probe saw nothing");
        }
        long unchunked = peakPrefillBytes(c, store, prompts, length, RuntimeOptions.LinearKernel.ENGINE, 0);
        assertTrue(unchunked > bound, "unchunked prefill stays under the bound too: " + unchunked + " <= " + bound);
        // chunks of 512 with the attention in blocks of 128 queries: the scores stay those of 128 queries
        long rowBytes = 4L * prompts.size() * c.numHeads() * length;
        long blocked = peakPrefillBytes(c, store, prompts, 512, RuntimeOptions.LinearKernel.ENGINE, 128 * rowBytes);
        long blockBound = shapeBound(c, prompts.size(), length, 512, 128);
        assertTrue(blocked <= blockBound, "blocks of queries: peak " + blocked + " above " + blockBound);
    }

    /**
     * Weight-free bytes from the shapes: KV cache, two copies of the scores of a block of queries, a chunk's mask,
     * activations and logits.
     */
    private static long shapeBound(ModelConfig c, int streams, int length, int chunk, int queryBlock) {
        long f = 4;
        long kvLayer = 2L * streams * c.numKvHeads() * length * c.headDim() * f;
        long cache = c.numLayers() * kvLayer;
        long scores = (long) streams * c.numHeads() * Math.min(chunk, queryBlock) * length * f;
        long mask = (long) streams * chunk * length * f;
        long width = Math.max(c.hiddenSize(), Math.max((long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim(),
                2L * c.intermediateSize()));
        long activations = 16L * streams * chunk * width * f;
        long logits = (long) streams * c.vocabSize() * f;
        // views are counted at full size: one layer's keys and values (and their transposes), a block's mask and queries
        long blockViews = (long) streams * Math.min(chunk, queryBlock) * (length + c.numHeads() * c.headDim()) * f;
        return cache + 2 * scores + mask + activations + 2 * kvLayer + logits + blockViews;
    }

    /** Peak of (bytes of live engine arrays beyond the weights) + (Java arrays of heap products) during prefill. */
    private static long peakPrefillBytes(ModelConfig c, InMemoryTensorStore store, List<int[]> prompts, int chunk,
                                         RuntimeOptions.LinearKernel kernel, long attentionBlockBytes) {
        RuntimeOptions opts = RuntimeOptions.builder().prefillChunk(chunk).linearKernel(kernel).build();
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, opts)) {
            if (attentionBlockBytes > 0) {
                PassSeams.attentionBlockBytes(lm.forward(), attentionBlockBytes);
            }
            long weights = liveBytes(lm);
            long[] peak = {0};
            PassSeams.probe(lm.forward(), () -> peak[0] = Math.max(peak[0],
                    liveBytes(lm) - weights + PassSeams.heapBytesHeld(lm.forward())));
            try (DecodingSession s = lm.prefill(prompts)) {
                assertEquals(prompts.get(0).length, s.length(0));
            }
            return peak[0];
        }
    }

    /** Bytes of live engine arrays under the model's manager (none on the Java pass, which starts no engine). */
    private static long liveBytes(DjlCausalLm lm) {
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
