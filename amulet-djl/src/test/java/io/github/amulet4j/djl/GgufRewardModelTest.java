package io.github.amulet4j.djl;

import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter;
import io.github.amulet4j.formats.checkpoint.CheckpointException;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufClassifier;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTokenizerExport;
import io.github.amulet4j.formats.gguf.KQuantEncoder;
import io.github.amulet4j.prompt.ChatMessage;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF reward models ({@code cls.output.weight}, as llama.cpp stores a classifier's head) against the Hugging Face
 * folder of the same weights, against the committed numpy reference (a classifier whose head is rows of the reference
 * checkpoint's language-model head scores that head's logits), and in every weight type the GGUF reader holds.
 */
class GgufRewardModelTest {

    private static final int LABELS = 3;

    @TempDir
    Path dir;

    private static Conversation exchange(String question, String answer) {
        return Conversation.of(null, List.of(ChatMessage.user(question), ChatMessage.assistant(answer)));
    }

    private static final List<Conversation> CONVERSATIONS = List.of(
            exchange("What is rain?", "Water that falls from clouds."), exchange("Name a colour.", "Blue."),
            exchange("Why is the sky blue?", "Scattering of light by the air."));

    private static RuntimeOptions weights(RuntimeOptions.Weights w) {
        return RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).weights(w).build();
    }

    private static RewardModel load(Path model, RuntimeOptions.Weights w) throws IOException {
        return RewardModel.load(ModelOptions.builder().model(model.toString()).runtime(weights(w)).build());
    }

    private static RewardModel loadOnJavaKernels(Path model, RuntimeOptions.Weights w) throws IOException {
        return RewardModel.load(ModelOptions.builder().model(model.toString())
                .runtime(weights(w).toBuilder().kernels(Kernels.JAVA).build()).build());
    }

    /** Each reward of {@code got} within {@code relative} of the largest reward of {@code want}'s row. */
    private static void assertRewards(List<Reward> want, List<Reward> got, double relative, String what) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            float[] a = want.get(i).rewards();
            float[] b = got.get(i).rewards();
            assertEquals(a.length, b.length, what + " conversation " + i + ": labels");
            double scale = 0;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int k = 0; k < a.length; k++) {
                assertEquals(a[k], b[k], relative * scale, what + " conversation " + i + " label " + k);
            }
            assertEquals(want.get(i).tokens(), got.get(i).tokens(), what + " conversation " + i + ": tokens");
        }
    }

    @ParameterizedTest
    @EnumSource(value = RandomModelFolder.Shape.class, names = {"TINY_QWEN3", "TINY_LLAMA", "TINY_QWEN2"})
    void aGgufScoresAsItsFolder(RandomModelFolder.Shape shape) throws IOException {
        String arch = switch (shape) {
            case TINY_QWEN3 -> "Qwen3ForSequenceClassification";
            case TINY_LLAMA -> "LlamaForSequenceClassification";
            default -> "Qwen2ForSequenceClassification";
        };
        Path folder = dir.resolve("hf");
        RewardModelFolders.write(folder, shape, arch, LABELS, null);
        Path gguf = dir.resolve("rm.gguf");
        GgufModelWriter.convertFolder(folder, gguf, GgmlType.F32);
        try (RewardModel hf = RewardModel.load(folder); RewardModel g = RewardModel.load(gguf)) {
            assertEquals(arch, g.config().architecture());
            assertEquals(hf.config().labels(), g.config().labels(), "label names from classifier.output_labels");
            for (Conversation c : CONVERSATIONS) {
                assertArrayEquals(hf.tokens(c), g.tokens(c), "the GGUF's tokenizer and chat template read the same");
            }
            List<Reward> want = hf.score(CONVERSATIONS);
            assertRewards(want, g.score(CONVERSATIONS), 1e-4, shape + " F32");
            // not vacuous: the conversations' rewards differ
            assertTrue(Math.abs(want.get(0).reward(0) - want.get(1).reward(0)) > 1e-3, "rewards differ by row");
        }
    }

    /** Each block type: the GGUF's stored blocks against the folder quantized on load to the same type. */
    @ParameterizedTest
    @CsvSource({"F16, F16", "BF16, BF16", "Q8_0, Q8_0", "Q4_0, Q4_0"})
    void everyBlockTypeScoresAsTheFolderInThatType(GgmlType type, RuntimeOptions.Weights same) throws IOException {
        Path folder = dir.resolve("hf");
        RewardModelFolders.write(folder, RandomModelFolder.Shape.TINY_QWEN3, "Qwen3ForSequenceClassification",
                LABELS, null);
        Path gguf = dir.resolve("rm-" + type + ".gguf");
        GgufModelWriter.convertFolder(folder, gguf, type);
        try (RewardModel hf = load(folder, same); RewardModel g = load(gguf, RuntimeOptions.Weights.AUTO);
             RewardModel exact = load(folder, RuntimeOptions.Weights.F32)) {
            List<Reward> want = hf.score(CONVERSATIONS);
            assertRewards(want, g.score(CONVERSATIONS), 1e-4, type.name());
            // the format matters (so the comparison above is of the stored blocks, not of float32 weights)
            List<Reward> f32 = exact.score(CONVERSATIONS);
            double gap = 0;
            for (int i = 0; i < f32.size(); i++) {
                gap = Math.max(gap, Math.abs(f32.get(i).reward(0) - want.get(i).reward(0)));
            }
            assertTrue(gap > 1e-6, type + " rewards equal float32's: the type was not applied");
        }
    }

    /** A classifier of {@code body} with {@code head} over {@code store}'s body, written as a GGUF with a tokenizer. */
    private Path writeGguf(ModelConfig body, TensorStore store, float[] head, int labels, GgmlType type, String name)
            throws IOException {
        InMemoryTensorStore s = new InMemoryTensorStore();
        for (String n : store.names()) {
            if (!n.equals("lm_head.weight")) {
                s.put(n, store.shape(n), store.readFloat32(n));
            }
        }
        s.put(ClassifierConfig.HEAD, new long[] {labels, body.hiddenSize()}, head);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < labels; i++) {
            names.add("label_" + i);
        }
        String arch = body.architecture().replace("ForCausalLM", "ForSequenceClassification");
        // every matrix in the type, the head included (the writer keeps a head float32 unless told)
        GgufModelWriter w = new GgufModelWriter(body, s, type).encoder(KQuantEncoder::encode).types(n -> type)
                .classifier(new ClassifierConfig(arch, body, labels, names, null, null));
        Path tok = dir.resolve(name + "-tokenizer");
        TinyTokenizerWriter.builder().vocabSize(Math.max(300, Math.min(body.vocabSize(), 400))).build().writeTo(tok);
        GgufTokenizerExport.put(w.metadata(), tok, body.vocabSize());
        Path gguf = dir.resolve(name + ".gguf");
        w.write(gguf);
        return gguf;
    }

    /**
     * K-quants (rows of 256), the head too: the held blocks against the same file read back as float32, both on the
     * Java kernels (the native ones quantize the activations to 8 bits, which is not what this test is about).
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_K", "Q6_K"})
    void kQuantsScoreAsTheirFloat32Values(GgmlType type) throws IOException {
        ModelConfig body = new ModelConfig("Qwen3ForCausalLM", 256, 2, 4, 2, 64, 512, 512, 256, 1e-6, 1_000_000.0,
                null, false, false, true, "silu", null, List.of(2), "float32");
        TensorStore store = RandomCheckpoint.create(body, 4, "", RandomModelFolder.TINY_STD);
        float[] head = RandomCheckpoint.normal(LABELS * body.hiddenSize(), 0, 0.3f, 9);
        Path gguf = writeGguf(body, store, head, LABELS, type, "k");
        List<RewardTokens> rows = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            int[] ids = new int[20 + 7 * r];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (int) ((i * 37L + r * 101L + 5) % 400);
            }
            rows.add(new RewardTokens(ids, -1, ids.length, false));
        }
        try (RewardModel held = loadOnJavaKernels(gguf, RuntimeOptions.Weights.AUTO);
             RewardModel exact = load(gguf, RuntimeOptions.Weights.F32)) {
            assertEquals(List.of("label_0", "label_1", "label_2"), held.config().labels());
            assertRewards(exact.scoreEncoded(rows), held.scoreEncoded(rows), 1e-4, type.name());
        }
    }

    /**
     * The committed numpy reference: a classifier whose head is the reference checkpoint's language-model head rows
     * of the last position's top ids scores the reference's top logits there (llama3: q/k permuted in the file, rope
     * factors; qwen3: tied embeddings, q/k norms).
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3"})
    void theCommittedNumpyReference(String name) throws IOException {
        Path ref;
        try {
            ref = Path.of(getClass().getResource("/reference/" + name + "/config.json").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        ModelConfig body = ModelConfigReader.readFolder(ref);
        JsonObject expected = JsonParser.parseString(Files.readString(ref.resolve("expected.json"),
                StandardCharsets.UTF_8)).getAsJsonObject();
        JsonArray idsJson = expected.getAsJsonArray("token_ids");
        int[] ids = new int[idsJson.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = idsJson.get(i).getAsInt();
        }
        JsonObject last = null;
        for (var p : expected.getAsJsonArray("positions")) {
            if (p.getAsJsonObject().get("position").getAsInt() == ids.length - 1) {
                last = p.getAsJsonObject();
            }
        }
        assertTrue(last != null, "the reference has the last position");
        JsonArray top = last.getAsJsonArray("top_ids");
        JsonArray logits = last.getAsJsonArray("top_logits");
        int h = body.hiddenSize();
        float[] head = new float[LABELS * h];
        try (TensorStore st = Checkpoints.open(ref)) {
            float[] lmHead = st.readFloat32(body.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight");
            for (int k = 0; k < LABELS; k++) {
                System.arraycopy(lmHead, top.get(k).getAsInt() * h, head, k * h, h);
            }
            Path gguf = writeGguf(body, st, head, LABELS, GgmlType.F32, name);
            try (RewardModel rm = RewardModel.load(gguf)) {
                Reward r = rm.scoreEncoded(List.of(new RewardTokens(ids, -1, ids.length, false))).get(0);
                for (int k = 0; k < LABELS; k++) {
                    double want = logits.get(k).getAsDouble();
                    assertEquals(want, r.reward(k), 1e-4 * Math.max(1, Math.abs(want)), name + " label " + k);
                }
            }
        }
    }

    @Test
    void aCausalLmGgufIsRefusedNamingTheMissingHead() throws IOException {
        Path lm = dir.resolve("lm");
        RandomModelFolder.write(lm, RandomModelFolder.Shape.TINY_QWEN3, 3, SafetensorsDtype.F32);
        Path gguf = dir.resolve("lm.gguf");
        GgufModelWriter.convertFolder(lm, gguf, GgmlType.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> RewardModel.load(gguf));
        assertTrue(e.getMessage().contains(gguf + ": no tensor 'cls.output.weight'")
                && e.getMessage().contains("causal language model") && e.getMessage().contains("ArmoRM"),
                e.getMessage());
    }

    @Test
    void armoRmHasNoGgufForm() throws IOException {
        Path armo = dir.resolve("armo");
        RewardModelFolders.writeArmoRm(armo, 4, 8, 1, 5.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufModelWriter.convertFolder(armo, dir.resolve("armo.gguf"), GgmlType.F32));
        assertTrue(e.getMessage().contains("has no GGUF form"), e.getMessage());
    }

    @Test
    void headMetadataThatDisagreesIsRefusedNamingTheKey() throws IOException {
        ModelConfig body = io.github.amulet4j.formats.checkpoint.ModelShapes.tinyQwen3();
        TensorStore store = RandomCheckpoint.create(body, 4, "", RandomModelFolder.TINY_STD);
        float[] head = RandomCheckpoint.normal(LABELS * body.hiddenSize(), 0, 0.3f, 9);
        Path gguf = writeGguf(body, store, head, LABELS, GgmlType.F32, "ok");
        // mean pooling: the head would be read elsewhere than the last token
        byte[] bytes = Files.readAllBytes(gguf);
        Path mean = dir.resolve("mean.gguf");
        Files.write(mean, withPooling(bytes, 1));
        CheckpointException e = assertThrows(CheckpointException.class, () -> RewardModel.load(mean));
        assertTrue(e.getMessage().contains("'qwen3.pooling_type' is 1 (mean)"), e.getMessage());
        try (RewardModel rm = RewardModel.load(gguf)) {
            assertEquals(LABELS, rm.config().numLabels());
        }
    }

    /** The file with its {@code qwen3.pooling_type} value (a u32 after the key) replaced. */
    private static byte[] withPooling(byte[] file, int value) {
        byte[] key = GgufClassifier.poolingKey("qwen3").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + key.length < file.length; i++) {
            if (java.util.Arrays.equals(file, i, i + key.length, key, 0, key.length)) {
                byte[] out = file.clone();
                int at = i + key.length + 4; // the value type (u32), then the value, little-endian
                out[at] = (byte) value;
                out[at + 1] = 0;
                out[at + 2] = 0;
                out[at + 3] = 0;
                return out;
            }
        }
        throw new AssertionError("no pooling key in the file");
    }
}
