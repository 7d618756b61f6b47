package io.github.amulet4j.djl;


import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.ClosedFormAmulet;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.SafetensorsFile;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.align.LogitsException;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine options of {@link ModelOptions} (KV cache, dtype, device) and streaming, through the public
 * {@link AmuletModel} API on a tiny random checkpoint: each against an independent computation.
 */
class ModelOptionsThroughAmuletModelTest {

    private static final String QUESTION = "What is the ozone layer?";
    private static final String PREFERENCE_TEXT = "Answer in as few words as you can.";

    @TempDir
    static Path dir;

    static Path folder;

    @BeforeAll
    static void writeModel() throws IOException {
        folder = dir.resolve("tiny-qwen2");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 21, SafetensorsDtype.F32);
    }

    private static GenerationConfig amulet(int tokens) {
        return GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(tokens).build();
    }

    /** Greedy Amulet recomputed from scratch with a model of {@code options} (no cache, one stream at a time). */
    private static int[] byHand(RuntimeOptions options, int tokens) throws IOException {
        EndToEndMethodsTest.HandPrompts p = EndToEndMethodsTest.HandPrompts.of(folder, RandomModelFolder.Shape.TINY_QWEN2);
        try (TensorStore store = Checkpoints.open(folder);
             DjlCausalLm lm = DjlCausalLm.load(ModelConfigReader.readFolder(folder), store, options)) {
            int vocab = Math.min(p.tokenizerVocab(), lm.vocabSize());
            int[] all = EndToEndMethodsTest.greedyByHand(lm, new ClosedFormAmulet(AmuletParameters.PAPER_DEFAULTS),
                    p.base(), p.pref(), vocab, p.eos());
            return java.util.Arrays.copyOf(all, Math.min(tokens, all.length));
        }
    }

    @Test
    void withoutTheKvCacheTheTokensAreTheSame() throws IOException {
        GenerationResult cached;
        try (AmuletModel m = AmuletModel.load(ModelOptions.of(folder))) {
            assertTrue(m.options().runtime().useKvCache());
            cached = m.generate(QUESTION, Preference.of(PREFERENCE_TEXT), amulet(6));
        }
        ModelOptions noCache = ModelOptions.builder().model(folder).runtime(r -> r.useKvCache(false)).build();
        try (AmuletModel m = AmuletModel.load(noCache)) {
            GenerationResult uncached = m.generate(QUESTION, Preference.of(PREFERENCE_TEXT), amulet(6));
            assertArrayEquals(cached.tokenIds(), uncached.tokenIds());
            assertEquals(cached.text(), uncached.text());
        }
        assertArrayEquals(byHand(RuntimeOptions.defaults(), 6), cached.tokenIds(), "against the steps by hand");
    }

    @Test
    void float16ComputeGivesWhatAFloat16ModelGivesByHand() throws IOException {
        RuntimeOptions half = RuntimeOptions.builder().computeType(DataType.FLOAT16).build();
        try (AmuletModel m = AmuletModel.load(ModelOptions.builder().model(folder).runtime(half).build())) {
            GenerationResult r = m.generate(QUESTION, Preference.of(PREFERENCE_TEXT), amulet(5));
            assertArrayEquals(byHand(half, 5), r.tokenIds());
        }
        // the dtype really reaches the engine: embeddings of 1e5 (beyond float16's 65504) are harmless in float32,
        // where every layer's RMSNorm rescales them, and overflow to infinity in float16
        Path big = dir.resolve("big-embeddings");
        RandomModelFolder.write(big, RandomModelFolder.Shape.TINY_QWEN2, 21, SafetensorsDtype.F32);
        InMemoryTensorStore weights = new InMemoryTensorStore();
        try (SafetensorsFile st = SafetensorsFile.open(big.resolve("model.safetensors"))) {
            for (String name : st.names()) {
                float[] v = st.readFloat32(name);
                if (name.equals("model.embed_tokens.weight")) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = v[i] < 0 ? -1e5f : 1e5f;
                    }
                }
                weights.put(name, st.shape(name), v);
            }
        }
        SafetensorsWriter.write(big.resolve("model.safetensors"), weights, SafetensorsDtype.F32);
        try (AmuletModel m = AmuletModel.load(big)) {
            assertEquals(4, m.generate(QUESTION, Preference.of(PREFERENCE_TEXT), amulet(4)).tokenIds().length);
        }
        try (AmuletModel m = AmuletModel.load(ModelOptions.builder().model(big).runtime(half).build())) {
            LogitsException e = assertThrows(LogitsException.class,
                    () -> m.generate(QUESTION, Preference.of(PREFERENCE_TEXT), amulet(4)));
            assertTrue(e.getMessage().contains("NaN") || e.getMessage().contains("finite"), e.getMessage());
        }
    }

    @Test
    void aGpuThatIsNotThereIsAClearError() {
        Assumptions.assumeTrue(Engine.getEngine(DjlCausalLm.ENGINE).getGpuCount() == 0, "a GPU is present");
        ModelOptions gpu = ModelOptions.builder().model(folder).runtime(r -> r.device(Device.gpu())).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AmuletModel.load(gpu));
        assertTrue(e.getMessage().contains("GPU"), e.getMessage());
        assertEquals(Device.cpu(), ModelOptions.of(folder).runtime().device());
    }

    @Test
    void streamingDeliversEveryTokenAndTheWholeTextInOrder() throws IOException {
        List<Integer> ids = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        List<Integer> requests = new ArrayList<>();
        TokenListener listener = (request, tokenId, delta) -> {
            requests.add(request);
            if (tokenId != TokenListener.NO_TOKEN) {
                ids.add(tokenId);
            }
            text.append(delta);
        };
        try (AmuletModel m = AmuletModel.load(folder)) {
            Conversation c = Conversation.of(QUESTION).withSystem("You help.");
            GenerationResult r = m.generate(c, Preference.of(PREFERENCE_TEXT), amulet(8), listener);
            assertArrayEquals(r.tokenIds(), ids.stream().mapToInt(Integer::intValue).toArray());
            assertEquals(r.text(), text.toString());
            assertTrue(r.tokenIds().length > 0 && requests.stream().allMatch(i -> i == 0), requests.toString());
            // the streamed request is the same request as the one without a listener
            assertArrayEquals(m.generate(AmuletRequest.builder(c).preference(PREFERENCE_TEXT).config(amulet(8)).build(),
                    TokenListener.NONE).tokenIds(), r.tokenIds());
        }
    }
}
