package io.github.amulet4j.djl;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.model.NaiveReference;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.formats.checkpoint.CheckpointException;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.prompt.ChatMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reward models against an independent computation: a tiny sequence-classification checkpoint (a random decoder with a
 * {@code score} head, in the Hugging Face layout) scored by {@link RewardModel}, and the same conversation run through
 * the naive reference forward pass with the head's rows as the first rows of a language-model head.
 */
class RewardModelTest {

    private static final int LABELS = 3;

    @TempDir
    Path dir;

    private static float[] makeClassifier(Path folder, RandomModelFolder.Shape shape, String arch, int labels,
                                          Integer pad) throws IOException {
        return RewardModelFolders.write(folder, shape, arch, labels, pad);
    }

    /** The rewards the naive reference computes: the head's rows put first in an otherwise zero language-model head. */
    private static float[] reference(Path folder, ModelConfig body, float[] score, int labels, int[] tokens)
            throws IOException {
        InMemoryTensorStore store = new InMemoryTensorStore();
        try (TensorStore in = Checkpoints.open(folder)) {
            for (String n : in.names()) {
                if (!n.equals(ClassifierConfig.HEAD)) {
                    store.put(n, in.shape(n), in.readFloat32(n));
                }
            }
        }
        float[] head = new float[body.vocabSize() * body.hiddenSize()];
        System.arraycopy(score, 0, head, 0, score.length);
        store.put("lm_head.weight", new long[] {body.vocabSize(), body.hiddenSize()}, head);
        ModelConfig untied = new ModelConfig(body.architecture(), body.hiddenSize(), body.numLayers(), body.numHeads(),
                body.numKvHeads(), body.headDim(), body.intermediateSize(), body.vocabSize(), body.maxPositions(),
                body.normEps(), body.ropeTheta(), body.ropeScaling(), false, body.attentionBias(), body.qkNorm(),
                body.hiddenAct(), body.bosTokenId(), body.eosTokenIds(), body.torchDtype(), body.slidingWindow());
        float[][] logits = new NaiveReference(untied, store).logits(tokens);
        float[] last = logits[tokens.length - 1];
        float[] out = new float[labels];
        System.arraycopy(last, 0, out, 0, labels);
        return out;
    }

    private static Conversation exchange(String question, String answer) {
        return Conversation.of(null, List.of(ChatMessage.user(question), ChatMessage.assistant(answer)));
    }

    @ParameterizedTest
    @EnumSource(value = RandomModelFolder.Shape.class, names = {"TINY_QWEN2", "TINY_QWEN3", "TINY_LLAMA", "TINY_MISTRAL"})
    void rewardsEqualTheNaiveReference(RandomModelFolder.Shape shape) throws IOException {
        String arch = switch (shape) {
            case TINY_QWEN2 -> "Qwen2ForSequenceClassification";
            case TINY_QWEN3 -> "Qwen3ForSequenceClassification";
            case TINY_LLAMA -> "LlamaForSequenceClassification";
            default -> "MistralForSequenceClassification";
        };
        float[] score = makeClassifier(dir, shape, arch, LABELS, null);
        try (RewardModel rm = RewardModel.load(dir)) {
            assertEquals(LABELS, rm.config().numLabels());
            assertEquals(List.of("objective_0", "objective_1", "objective_2"), rm.config().labels());
            List<Conversation> convs = List.of(exchange("What is rain?", "Water that falls from clouds."),
                    exchange("Name a colour.", "Blue."), exchange("Why is the sky blue?", "Scattering of light."));
            List<Reward> batch = rm.score(convs);
            for (int i = 0; i < convs.size(); i++) {
                int[] tokens = rm.tokens(convs.get(i));
                float[] want = reference(dir, rm.config().body(), score, LABELS, tokens);
                Reward one = rm.score(convs.get(i));
                assertEquals(tokens.length, one.tokens());
                for (int k = 0; k < LABELS; k++) {
                    assertEquals(want[k], one.reward(k), 1e-4f + 1e-3f * Math.abs(want[k]), shape + " conv " + i + " label " + k);
                    // the batch (left-padded, one forward pass) gives each conversation's own rewards
                    assertEquals(one.reward(k), batch.get(i).reward(k), 1e-4f, shape + " batched conv " + i);
                }
                assertTrue(Float.isNaN(one.score()), "a multi-label head has no single score");
            }
        }
    }

    @Test
    void aSingleLabelModelScoresAtTheLastTokenThatIsNotThePadToken() throws IOException {
        Path m = dir.resolve("m");
        float[] score = makeClassifier(m, RandomModelFolder.Shape.TINY_QWEN2, "Qwen2ForSequenceClassification", 1, null);
        Conversation c = exchange("What is rain?", "Water.");
        int[] all;
        try (RewardModel rm = RewardModel.load(m)) {
            all = rm.tokens(c);
        }
        // the rendered conversation's last token made the pad token: transformers scores the token before it
        int pad = all[all.length - 1];
        Path config = m.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
        o.addProperty("pad_token_id", pad);
        Files.writeString(config, o.toString());
        try (RewardModel rm = RewardModel.load(m)) {
            int[] tokens = rm.tokens(c);
            assertTrue(tokens.length < all.length && tokens[tokens.length - 1] != pad, "trailing pad tokens are cut");
            Reward r = rm.score(c);
            assertEquals(r.reward(0), r.score());
            assertEquals(tokens.length, r.tokens());
            float[] want = reference(m, rm.config().body(), score, 1, tokens);
            assertEquals(want[0], r.score(), 1e-4f + 1e-3f * Math.abs(want[0]));
        }
    }

    @ParameterizedTest
    @EnumSource(value = RuntimeOptions.Weights.class, names = {"BF16", "Q8_0"})
    void quantizedWeightsStayNearTheFloat32Rewards(RuntimeOptions.Weights weights) throws IOException {
        makeClassifier(dir, RandomModelFolder.Shape.TINY_LLAMA, "LlamaForSequenceClassification", LABELS, null);
        Conversation c = exchange("What is rain?", "Water that falls from clouds.");
        Reward f32;
        try (RewardModel rm = RewardModel.load(dir)) {
            f32 = rm.score(c);
        }
        try (RewardModel rm = RewardModel.load(ModelOptions.builder().model(dir).runtime(o -> o.weights(weights)).build())) {
            Reward q = rm.score(c);
            for (int k = 0; k < LABELS; k++) {
                assertEquals(f32.reward(k), q.reward(k), 0.1f * Math.max(1f, Math.abs(f32.reward(k))), weights + " label " + k);
            }
        }
    }

    @Test
    void aCausalLanguageModelIsRefusedNamingWhatIsMissing() throws IOException {
        RandomModelFolder.write(dir, RandomModelFolder.Shape.TINY_QWEN2, 11, SafetensorsDtype.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> RewardModel.load(dir));
        assertTrue(e.getMessage().contains("Qwen2ForCausalLM") && e.getMessage().contains("no 'score' head"), e.getMessage());
    }

    @Test
    void aMissingScoreHeadIsNamed() throws IOException {
        makeClassifier(dir, RandomModelFolder.Shape.TINY_QWEN2, "Qwen2ForSequenceClassification", LABELS, null);
        Path config = dir.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
        o.addProperty("num_labels", 5); // the head on disk has 3 rows
        o.remove("id2label");
        Files.writeString(config, o.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RewardModel.load(dir));
        assertTrue(e.getMessage().contains("score.weight") && e.getMessage().contains("[5, "), e.getMessage());
    }

    /** Hidden states of every position from the naive reference: an identity put in the first rows of the LM head. */
    static float[][] referenceHidden(Path folder, ModelConfig body, int[] tokens) throws IOException {
        InMemoryTensorStore store = new InMemoryTensorStore();
        try (TensorStore in = Checkpoints.open(folder)) {
            for (String n : in.names()) {
                if (n.startsWith("model.")) {
                    store.put(n, in.shape(n), in.readFloat32(n));
                }
            }
        }
        int h = body.hiddenSize();
        float[] head = new float[body.vocabSize() * h];
        for (int k = 0; k < h; k++) {
            head[k * h + k] = 1f;
        }
        store.put("lm_head.weight", new long[] {body.vocabSize(), h}, head);
        ModelConfig untied = new ModelConfig(body.architecture(), h, body.numLayers(), body.numHeads(),
                body.numKvHeads(), body.headDim(), body.intermediateSize(), body.vocabSize(), body.maxPositions(),
                body.normEps(), body.ropeTheta(), body.ropeScaling(), false, body.attentionBias(), body.qkNorm(),
                body.hiddenAct(), body.bosTokenId(), body.eosTokenIds(), body.torchDtype(), body.slidingWindow());
        float[][] logits = new NaiveReference(untied, store).logits(tokens);
        float[][] out = new float[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            out[t] = java.util.Arrays.copyOf(logits[t], h);
        }
        return out;
    }

    @Test
    void armoRmsRewardsAndGatedScoreEqualItsModellingCodeOnTheNaiveReference() throws IOException {
        RewardModelFolders.ArmoRmHead head = RewardModelFolders.writeArmoRm(dir, 5, 16, 2, 3.0);
        Conversation c = exchange("What is rain?", "Water that falls from clouds.");
        try (RewardModel rm = RewardModel.load(dir)) {
            assertEquals(5, rm.config().numLabels());
            int[] tokens = rm.tokens(c);
            float[][] hidden = referenceHidden(dir, rm.config().body(), tokens);
            // the gate reads where the last "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" starts
            int[] pattern = rm.gatePattern();
            int gate = -1;
            for (int j = tokens.length - pattern.length; j >= 0 && gate < 0; j--) {
                if (java.util.Arrays.equals(tokens, j, j + pattern.length, pattern, 0, pattern.length)) {
                    gate = j;
                }
            }
            assertTrue(gate > 0, "the pattern is in the conversation");
            double[] want = armoRmReference(head, hidden, tokens.length - 1, gate);
            int n = head.objectives();
            double[] rewards = java.util.Arrays.copyOf(want, n);
            double score = want[n];
            Reward got = rm.score(c);
            for (int k = 0; k < n; k++) {
                assertEquals(rewards[k], got.reward(k), 1e-4 + 1e-3 * Math.abs(rewards[k]), "objective " + k);
            }
            assertEquals(score, got.score(), 1e-4 + 1e-3 * Math.abs(score), "gated score");
            assertEquals(List.of("objective_0", "objective_1", "objective_2", "objective_3", "objective_4"),
                    rm.config().labels());
        }
    }

    /**
     * ArmoRM's head as its modelling code computes it, in float64, from hidden states: the objectives' rewards at
     * {@code last}, then the gated score with the gate read at {@code gate}; returns the rewards and then the score.
     */
    static double[] armoRmReference(RewardModelFolders.ArmoRmHead head, float[][] hidden, int last, int gate) {
        int h = hidden[0].length;
        int n = head.objectives();
        double[] rewards = new double[n];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < h; j++) {
                rewards[k] += head.regression()[k * h + j] * hidden[last][j];
            }
        }
        double[] x = new double[h];
        for (int j = 0; j < h; j++) {
            x[j] = hidden[gate][j];
        }
        for (int l = 0; l < head.weights().length; l++) {
            int out = head.biases()[l].length;
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                y[o] = head.biases()[l][o];
                for (int j = 0; j < x.length; j++) {
                    y[o] += head.weights()[l][o * x.length + j] * x[j];
                }
                if (l < head.weights().length - 1) {
                    y[o] = Math.max(0, y[o]);
                }
            }
            x = y;
        }
        double z = 0;
        for (double v : x) {
            z += Math.exp(v / head.temperature());
        }
        double score = 0;
        for (int k = 0; k < n; k++) {
            double adjusted = 0;
            for (int j = 0; j < n; j++) {
                adjusted += rewards[j] * head.transform()[j * n + k];
            }
            score += Math.exp(x[k] / head.temperature()) / z * head.logitScale() * adjusted;
        }
        double[] out = java.util.Arrays.copyOf(rewards, n + 1);
        out[n] = score;
        return out;
    }

    @Test
    void anArmoRmWithoutItsGateTensorsIsNamed() throws IOException {
        RewardModelFolders.writeArmoRm(dir, 5, 16, 2, 10.0);
        Path config = dir.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
        o.addProperty("gating_n_hidden", 3); // the file has layers 0..2 only
        Files.writeString(config, o.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RewardModel.load(dir));
        assertTrue(e.getMessage().contains("gating.layers.2.weight") || e.getMessage().contains("gating.layers.3"),
                e.getMessage());
    }
}
