package io.github.amulet4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.CheckpointException;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.transformer.weights.Kernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real loading path ({@link AmuletModel#load}) on sharded, BF16 and F16 checkpoints, each compared with an
 * F32 checkpoint of the same values rounded the same way in test code; and bad folders, whose errors must name
 * the file and what was expected.
 */
class FolderLoadingTest {

    private static final String QUESTION = "Why is the sky blue?";

    @TempDir
    static Path dir;

    /** A tiny Llama (untied head, llama3 rope) written in F32. */
    static Path source;

    @BeforeAll
    static void write() throws IOException {
        source = dir.resolve("source");
        RandomModelFolder.write(source, RandomModelFolder.Shape.TINY_LLAMA, 23, SafetensorsDtype.F32);
    }

    @Test
    void shardedBf16AndF16CheckpointsLoadAsTheF32CheckpointOfTheSameRoundedValues() throws IOException {
        InMemoryTensorStore original = readAll(source);

        Path sharded = copyWithoutWeights("sharded");
        SafetensorsWriter.writeSharded(sharded, original, SafetensorsDtype.F32, 40_000);
        assertTrue(Files.exists(sharded.resolve("model-00003-of-" + shardCount(sharded) + ".safetensors")),
                "at least three shards");
        assertSameModel(source, sharded);

        Path bf16 = copyWithoutWeights("bf16");
        SafetensorsWriter.write(bf16.resolve(Checkpoints.SINGLE_FILE), original, SafetensorsDtype.BF16);
        Path bf16Reference = copyWithoutWeights("bf16-as-f32");
        SafetensorsWriter.write(bf16Reference.resolve(Checkpoints.SINGLE_FILE), map(original, FolderLoadingTest::roundToBf16),
                SafetensorsDtype.F32);
        assertSameModel(bf16Reference, bf16);

        Path f16 = copyWithoutWeights("f16");
        SafetensorsWriter.write(f16.resolve(Checkpoints.SINGLE_FILE), original, SafetensorsDtype.F16);
        Path f16Reference = copyWithoutWeights("f16-as-f32");
        SafetensorsWriter.write(f16Reference.resolve(Checkpoints.SINGLE_FILE), map(original, FolderLoadingTest::roundToF16),
                SafetensorsDtype.F32);
        assertSameModel(f16Reference, f16);
    }

    @Test
    void aFolderWithoutConfigNamesConfigJson() throws IOException {
        Path f = copyOf("no-config");
        Files.delete(f.resolve("config.json"));
        String msg = loadError(f);
        assertTrue(msg.contains("config.json") && msg.contains(f.toString()), msg);
    }

    @Test
    void aFolderWithoutTokenizerNamesTokenizerJson() throws IOException {
        Path f = copyOf("no-tokenizer");
        Files.delete(f.resolve("tokenizer.json"));
        String msg = loadError(f);
        assertTrue(msg.contains("tokenizer.json") && msg.contains(f.toString()), msg);
    }

    @Test
    void aFolderWithoutWeightsNamesTheExpectedFiles() throws IOException {
        Path f = copyOf("no-weights");
        Files.delete(f.resolve(Checkpoints.SINGLE_FILE));
        String msg = loadError(f);
        assertTrue(msg.contains(Checkpoints.SINGLE_FILE) && msg.contains(Checkpoints.INDEX_FILE), msg);
        assertTrue(msg.contains(f.toString()), msg);
    }

    @Test
    void aBrokenTokenizerIsReportedBeforeBrokenWeights() throws IOException {
        // the tokenizer loads on another thread beside the weights: its error still comes first, as it did
        Path f = copyOf("both-broken");
        Files.writeString(f.resolve("tokenizer.json"), "{\"model\": ");
        String msg = loadError(f);
        assertTrue(msg.contains("tokenizer.json"), msg);
        Files.delete(f.resolve(Checkpoints.SINGLE_FILE));
        Exception e = assertThrows(TokenizerFormatException.class, () -> AmuletModel.load(f).close());
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        assertEquals(1, e.getSuppressed().length, "the weights' error rides along");
        assertTrue(e.getSuppressed()[0].getMessage().contains(Checkpoints.SINGLE_FILE), e.getSuppressed()[0].getMessage());
    }

    @Test
    void aTruncatedSafetensorsHeaderNamesTheFileAndTheHeader() throws IOException {
        Path f = copyOf("truncated");
        Path weights = f.resolve(Checkpoints.SINGLE_FILE);
        byte[] all = Files.readAllBytes(weights);
        long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Files.write(weights, java.util.Arrays.copyOf(all, (int) (8 + headerLength / 2)));
        String msg = loadError(f);
        assertTrue(msg.contains(weights.toString()) && msg.toLowerCase().contains("header"), msg);
    }

    @Test
    void anUnsupportedArchitectureNamesItAndTheSupportedOnes() throws IOException {
        Path f = copyOf("falcon");
        Path config = f.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("LlamaForCausalLM", "FalconForCausalLM"),
                StandardCharsets.UTF_8);
        String msg = loadError(f);
        assertTrue(msg.contains("config.json") && msg.contains("FalconForCausalLM"), msg);
        for (String supported : List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                "Qwen3ForCausalLM", "GPT2LMHeadModel", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM")) {
            assertTrue(msg.contains(supported), msg);
        }
    }

    private static ModelOptions javaKernels(Path folder) {
        return ModelOptions.builder().model(folder).runtime(r -> r.kernels(Kernels.JAVA)).build();
    }

    private static String loadError(Path folder) {
        Exception e = assertThrows(Exception.class, () -> AmuletModel.load(folder).close());
        assertTrue(e instanceof CheckpointException || e instanceof TokenizerFormatException, e.toString());
        return e.getMessage();
    }

    /**
     * Logits of every position and the greedy tokens of two methods, through {@link AmuletModel#load}, on the Java
     * kernels: this checks loading, and the native BF16 kernel rounds activations to bfloat16 (its own bound is
     * NativeFloat16KernelsTest's and WeightFormatsTest's).
     */
    private static void assertSameModel(Path expectedFolder, Path actualFolder) throws IOException {
        try (AmuletModel expected = AmuletModel.load(javaKernels(expectedFolder));
             AmuletModel actual = AmuletModel.load(javaKernels(actualFolder))) {
            int[] prompt = expected.prompts().render(QUESTION, Preference.of("creative")).preference().tokenIds();
            float[][] e = expected.causalLm().logitsAllPositions(prompt);
            float[][] a = actual.causalLm().logitsAllPositions(prompt);
            assertEquals(e.length, a.length);
            for (int p = 0; p < e.length; p++) {
                assertArrayEquals(e[p], a[p], 1e-4f, actualFolder.getFileName() + " position " + p);
            }
            for (AlignmentMethod m : List.of(AlignmentMethod.PREF, AlignmentMethod.AMULET)) {
                GenerationConfig c = GenerationConfig.builder().method(m).maxNewTokens(6).build();
                assertArrayEquals(expected.generate(QUESTION, Preference.of("creative"), c).tokenIds(),
                        actual.generate(QUESTION, Preference.of("creative"), c).tokenIds(),
                        actualFolder.getFileName() + " " + m.id());
            }
        }
    }

    private static InMemoryTensorStore readAll(Path folder) throws IOException {
        InMemoryTensorStore copy = new InMemoryTensorStore();
        try (TensorStore store = Checkpoints.open(folder)) {
            for (String name : store.names()) {
                copy.put(name, store.shape(name), store.readFloat32(name));
            }
        }
        return copy;
    }

    private static InMemoryTensorStore map(InMemoryTensorStore store, UnaryOperator<float[]> f) {
        InMemoryTensorStore out = new InMemoryTensorStore();
        for (String name : store.names()) {
            out.put(name, store.shape(name), f.apply(store.readFloat32(name)));
        }
        return out;
    }

    /** Round to nearest even on the upper 16 bits (the values are finite). */
    private static float[] roundToBf16(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            int lower = bits & 0xFFFF;
            int upper = bits & 0xFFFF0000;
            boolean roundUp = lower > 0x8000 || (lower == 0x8000 && (upper & 0x10000) != 0);
            out[i] = Float.intBitsToFloat(roundUp ? upper + 0x10000 : upper);
        }
        return out;
    }

    /** Through the PyTorch engine's own float16 conversion (independent of the safetensors writer). */
    private static float[] roundToF16(float[] values) {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.create(values);
            return a.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    private static String shardCount(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            long n = files.filter(p -> p.getFileName().toString().startsWith("model-")).count();
            return String.format("%05d", n);
        }
    }

    private static Path copyWithoutWeights(String name) throws IOException {
        Path target = dir.resolve(name);
        Files.createDirectories(target);
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(source.resolve(f), target.resolve(f));
        }
        return target;
    }

    private static Path copyOf(String name) throws IOException {
        Path target = copyWithoutWeights(name);
        Files.copy(source.resolve(Checkpoints.SINGLE_FILE), target.resolve(Checkpoints.SINGLE_FILE));
        return target;
    }
}
