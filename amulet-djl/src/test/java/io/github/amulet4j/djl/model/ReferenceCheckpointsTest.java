package io.github.amulet4j.djl.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The second, independent model reference: checkpoints in the Hugging Face layout and their logits, both
 * written by {@code src/test/resources/reference/regenerate_reference.py} (numpy, float64, written from the
 * transformers modelling code of each architecture). The Java model reads the folders as it reads a download
 * and must give the same top-k logits and log-sum-exp (1e-4), on both linear kernels, without and with the
 * KV cache. The naive Java reference is held to the same numbers.
 */
class ReferenceCheckpointsTest {

    static final double TOL = 1e-4;

    static Path folder(String name) {
        try {
            return Path.of(ReferenceCheckpointsTest.class.getResource("/reference/" + name + "/config.json").toURI())
                    .getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One position's expectation. */
    record Expected(int position, int[] topIds, double[] topLogits, double logSumExp) {
    }

    static int[] tokenIds(JsonObject o) {
        return o.getAsJsonArray("token_ids").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    static List<Expected> positions(JsonObject o) {
        return o.getAsJsonArray("positions").asList().stream().map(JsonElement::getAsJsonObject).map(p -> {
            JsonArray ids = p.getAsJsonArray("top_ids");
            JsonArray values = p.getAsJsonArray("top_logits");
            return new Expected(p.get("position").getAsInt(),
                    ids.asList().stream().mapToInt(JsonElement::getAsInt).toArray(),
                    values.asList().stream().mapToDouble(JsonElement::getAsDouble).toArray(),
                    p.get("logsumexp").getAsDouble());
        }).toList();
    }

    /** Checks one row of logits against one position's expectation. */
    static void check(String what, Expected e, float[] row) {
        Integer[] order = new Integer[row.length];
        for (int i = 0; i < row.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
        int[] top = Arrays.stream(order, 0, e.topIds().length).mapToInt(Integer::intValue).toArray();
        assertArrayEquals(e.topIds(), top, what + ": top ids");
        for (int i = 0; i < top.length; i++) {
            assertEquals(e.topLogits()[i], row[e.topIds()[i]], TOL, what + ": logit of id " + e.topIds()[i]);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : row) {
            sum += Math.exp(v - max);
        }
        assertEquals(e.logSumExp(), max + Math.log(sum), TOL, what + ": log-sum-exp of the row");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-linear", "llama3", "mistral-window", "qwen2", "qwen3", "gpt2", "gemma2",
            "gemma3", "gemma3-multimodal"})
    void javaModelGivesTheLogitsOfTheNumpyReference(String name) throws IOException {
        Path dir = folder(name);
        JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
        int[] ids = tokenIds(expected);
        List<Expected> positions = positions(expected);
        ModelConfig config = ModelConfigReader.readFolder(dir);
        try (TensorStore store = Checkpoints.open(dir)) {
            float[][] naive = new NaiveReference(config, store).logits(ids);
            for (Expected e : positions) {
                check(name + " naive reference, position " + e.position(), e, naive[e.position()]);
            }
            for (RuntimeOptions.LinearKernel kernel : List.of(RuntimeOptions.LinearKernel.ENGINE,
                    RuntimeOptions.LinearKernel.JAVA)) {
                RuntimeOptions options = RuntimeOptions.builder().linearKernel(kernel).initialCacheCapacity(4).build();
                try (DjlCausalLm lm = DjlCausalLm.load(config, store, options)) {
                    float[][] all = lm.logitsAllPositions(ids);
                    for (Expected e : positions) {
                        check(name + " " + kernel + " all positions, position " + e.position(), e, all[e.position()]);
                    }
                    // prefill the first two tokens, then one token at a time through the KV cache
                    try (DecodingSession s = lm.prefill(List.of(Arrays.copyOf(ids, 2)))) {
                        for (int pos = 2; pos < ids.length; pos++) {
                            s.append(new int[] {ids[pos]});
                            for (Expected e : positions) {
                                if (e.position() == pos) {
                                    check(name + " " + kernel + " cached step, position " + pos, e, s.logits().row(0));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Phi-3 (fused qkv_proj and gate_up_proj, longrope, partial rotary factor, tied head, window) on both kernels: all
     * positions in one pass, and one token at a time through the KV cache from two tokens, where the long case's
     * steps up to {@code original_max_position_embeddings} (8) tokens match the numpy logits of that prefix alone
     * (short factors) and the steps after it, once the session has re-run the sequence with the long factors, the
     * logits of the whole sequence.
     */
    @ParameterizedTest
    @ValueSource(strings = {"phi3-long", "phi3-short"})
    void phi3GivesTheLogitsOfTheNumpyReference(String name) throws IOException {
        Path dir = folder(name);
        JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
        int[] ids = tokenIds(expected);
        List<Expected> positions = positions(expected);
        JsonObject shortPrefix = expected.getAsJsonObject("short_prefix");
        int prefixLength = shortPrefix == null ? 0 : shortPrefix.get("length").getAsInt();
        List<Expected> prefixPositions = shortPrefix == null ? List.of() : positions(shortPrefix);
        ModelConfig config = ModelConfigReader.readFolder(dir);
        assertEquals("Phi3ForCausalLM", config.architecture());
        try (TensorStore store = Checkpoints.open(dir)) {
            for (RuntimeOptions.LinearKernel kernel : List.of(RuntimeOptions.LinearKernel.ENGINE,
                    RuntimeOptions.LinearKernel.JAVA)) {
                RuntimeOptions options = RuntimeOptions.builder().linearKernel(kernel).initialCacheCapacity(4).build();
                try (DjlCausalLm lm = DjlCausalLm.load(config, store, options)) {
                    float[][] all = lm.logitsAllPositions(ids);
                    for (Expected e : positions) {
                        check(name + " " + kernel + " all positions, position " + e.position(), e, all[e.position()]);
                    }
                    if (prefixLength > 0) {
                        float[][] prefix = lm.logitsAllPositions(Arrays.copyOf(ids, prefixLength));
                        for (Expected e : prefixPositions) {
                            check(name + " " + kernel + " short prefix, position " + e.position(), e,
                                    prefix[e.position()]);
                        }
                    }
                    try (DecodingSession s = lm.prefill(List.of(Arrays.copyOf(ids, 2)))) {
                        for (int pos = 2; pos < ids.length; pos++) {
                            s.append(new int[] {ids[pos]});
                            boolean isShort = pos < prefixLength;
                            for (Expected e : isShort ? prefixPositions : positions) {
                                if (e.position() == pos) {
                                    check(name + " " + kernel + " cached step, position " + pos
                                            + (isShort ? " (short prefix)" : ""), e, s.logits().row(0));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Guards the test above: the long factors, the attention factor, the window and the re-run at the crossing each
     * change the last position's logits beyond the tolerance.
     */
    @org.junit.jupiter.api.Test
    void phi3LongropeFeaturesMatterAtTheTestedPositions() throws IOException {
        Path dir = folder("phi3-long");
        JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
        int[] ids = tokenIds(expected);
        Expected last = positions(expected).get(positions(expected).size() - 1);
        ModelConfig config = ModelConfigReader.readFolder(dir);
        ModelConfig.RopeScaling s = config.ropeScaling();
        assertTrue(s.isLongRope() && config.rotaryDim() == 12 && config.tieWordEmbeddings(), config.toString());
        ModelConfig shortOnly = config.withRopeScaling(new ModelConfig.RopeScaling(s.type(), s.factor(), 1, 1,
                s.originalMaxPositionEmbeddings(), s.shortFactor(), s.shortFactor(), s.attentionFactor()));
        ModelConfig unitAttention = config.withRopeScaling(new ModelConfig.RopeScaling(s.type(), s.factor(), 1, 1,
                s.originalMaxPositionEmbeddings(), s.shortFactor(), s.longFactor(), 1.0));
        ModelConfig noWindow = config.withSlidingWindow(null);
        RuntimeOptions options = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).build();
        try (TensorStore store = Checkpoints.open(dir)) {
            for (ModelConfig without : List.of(shortOnly, unitAttention, noWindow)) {
                try (DjlCausalLm lm = DjlCausalLm.load(without, store, options)) {
                    float[] row = lm.logitsAllPositions(ids)[last.position()];
                    assertTrue(worstTopLogitGap(last, row) > 1e-2, without.ropeScaling() + " window "
                            + without.slidingWindow() + ": changes the top logits by only " + worstTopLogitGap(last, row));
                }
            }
            // the cache of the first 8 tokens (short factors) kept, the last 4 run with the long factors: not the
            // fresh pass, which is why the session re-runs the sequence at the crossing
            try (DjlCausalLm lm = DjlCausalLm.load(config, store, options);
                 io.github.amulet4j.transformer.KvCache cache = lm.newCache(1, ids.length)) {
                float[] row = new float[lm.vocabSize()];
                lm.forward().run(new int[][] {Arrays.copyOf(ids, 8)}, new int[] {0}, cache, 64, row);
                lm.forward().run(new int[][] {Arrays.copyOfRange(ids, 8, ids.length)}, new int[] {0}, cache, 64, row);
                assertTrue(worstTopLogitGap(last, row) > 1e-2, "a stale short-factor cache changes the logits by only "
                        + worstTopLogitGap(last, row));
            }
        }
    }

    private static double worstTopLogitGap(Expected e, float[] row) {
        double worst = 0;
        for (int i = 0; i < e.topIds().length; i++) {
            worst = Math.max(worst, Math.abs(row[e.topIds()[i]] - e.topLogits()[i]));
        }
        return worst;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-linear", "llama3", "mistral-window"})
    void theRopeScalingAndTheWindowMatterAtTheTestedPositions(String name) throws IOException {
        // guards the test above: without the feature the last position's logits differ beyond the tolerance
        Path dir = folder(name);
        JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
        int[] ids = tokenIds(expected);
        Expected last = positions(expected).get(positions(expected).size() - 1);
        ModelConfig config = ModelConfigReader.readFolder(dir);
        ModelConfig without = name.startsWith("mistral") ? config.withSlidingWindow(null) : TestModels.withoutRopeScaling(config);
        assertTrue(name.startsWith("mistral") ? config.slidingWindow() != null : config.ropeScaling() != null, name);
        try (TensorStore store = Checkpoints.open(dir)) {
            float[] row = new NaiveReference(without, store).logits(ids)[last.position()];
            double worst = 0;
            for (int i = 0; i < last.topIds().length; i++) {
                worst = Math.max(worst, Math.abs(row[last.topIds()[i]] - last.topLogits()[i]));
            }
            assertTrue(worst > 1e-2, name + ": the feature changes the top logits by only " + worst);
        }
    }

    /** Gemma's features, each switched off in turn: the tested logits must move beyond the tolerance. */
    static List<Map.Entry<String, UnaryOperator<ModelConfig>>> gemmaFeatures(ModelConfig c) {
        GemmaConfig g = c.gemma();
        List<Map.Entry<String, UnaryOperator<ModelConfig>>> all = new ArrayList<>();
        all.add(Map.entry("the sliding window", x -> x.withGemma(new GemmaConfig(g.queryPreAttnScalar(),
                g.attnLogitSoftcapping(), g.finalLogitSoftcapping(), null, g.slidingLayers(), g.localRopeTheta()))));
        if (g.queryPreAttnScalar() != c.headDim()) {
            all.add(Map.entry("query_pre_attn_scalar", x -> x.withGemma(new GemmaConfig(x.headDim(),
                    g.attnLogitSoftcapping(), g.finalLogitSoftcapping(), g.slidingWindow(), g.slidingLayers(),
                    g.localRopeTheta()))));
        }
        if (g.attnLogitSoftcapping() != null) {
            all.add(Map.entry("attention soft-capping", x -> x.withGemma(new GemmaConfig(g.queryPreAttnScalar(), null,
                    g.finalLogitSoftcapping(), g.slidingWindow(), g.slidingLayers(), g.localRopeTheta()))));
        }
        if (g.finalLogitSoftcapping() != null) {
            all.add(Map.entry("final soft-capping", x -> x.withGemma(new GemmaConfig(g.queryPreAttnScalar(),
                    g.attnLogitSoftcapping(), null, g.slidingWindow(), g.slidingLayers(), g.localRopeTheta()))));
        }
        if (g.localRopeTheta() != null) {
            all.add(Map.entry("the local rotary base", x -> x.withGemma(new GemmaConfig(g.queryPreAttnScalar(),
                    g.attnLogitSoftcapping(), g.finalLogitSoftcapping(), g.slidingWindow(), g.slidingLayers(), null))));
        }
        if (c.ropeScaling() != null) {
            all.add(Map.entry("the global rope scaling", TestModels::withoutRopeScaling));
        }
        return all;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gemma2", "gemma3", "gemma3-multimodal"})
    void everyGemmaFeatureMattersAtTheTestedPositions(String name) throws IOException {
        Path dir = folder(name);
        JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
        int[] ids = tokenIds(expected);
        ModelConfig config = ModelConfigReader.readFolder(dir);
        assertTrue(config.isGemma(), name);
        try (TensorStore store = Checkpoints.open(dir)) {
            for (Map.Entry<String, UnaryOperator<ModelConfig>> feature : gemmaFeatures(config)) {
                float[][] rows = new NaiveReference(feature.getValue().apply(config), store).logits(ids);
                double worst = 0;
                for (Expected e : positions(expected)) {
                    for (int i = 0; i < e.topIds().length; i++) {
                        worst = Math.max(worst, Math.abs(rows[e.position()][e.topIds()[i]] - e.topLogits()[i]));
                    }
                }
                assertTrue(worst > 1e-2, name + ": " + feature.getKey() + " changes the top logits by only " + worst);
            }
        }
    }
}
