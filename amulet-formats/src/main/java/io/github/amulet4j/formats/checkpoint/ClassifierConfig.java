package io.github.amulet4j.formats.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A sequence-classification checkpoint's {@code config.json} (reward models such as the Skywork-Reward-V2 family): the
 * decoder body it runs on, read as the matching causal LM's configuration, and its {@code score} head: how many labels
 * ({@code num_labels}, else the size of {@code id2label}, else Hugging Face's default of 2), their names, and the pad
 * id that marks where a sequence ends.
 *
 * @param architecture the checkpoint's own {@code architectures[0]}, e.g. {@code Qwen3ForSequenceClassification}
 * @param body         the decoder's configuration, with the causal LM's architecture name
 * @param numLabels    rows of the {@code score.weight} head
 * @param labels       a name per label ({@code id2label}, else {@code LABEL_i})
 * @param padTokenId   {@code pad_token_id}, or null
 * @param gating       ArmoRM's gating network ({@code LlamaForRewardModelWithGating}), or null for a plain
 *                     {@code score} head; then {@code numLabels} is its number of objectives
 */
public record ClassifierConfig(String architecture, ModelConfig body, int numLabels, List<String> labels,
                               Integer padTokenId, Gating gating) {

    /** ArmoRM's architecture: a Llama body, a regression layer per objective and a gating network. */
    public static final String ARMO_RM = "LlamaForRewardModelWithGating";

    /** ArmoRM's 19 objectives, in the order of its regression layer (its model card); index 6 is the paper's. */
    public static final List<String> ARMO_RM_OBJECTIVES = List.of("helpsteer-helpfulness", "helpsteer-correctness",
            "helpsteer-coherence", "helpsteer-complexity", "helpsteer-verbosity", "ultrafeedback-overall_score",
            "ultrafeedback-instruction_following", "ultrafeedback-truthfulness", "ultrafeedback-honesty",
            "ultrafeedback-helpfulness", "beavertails-is_safe", "prometheus-score", "argilla-overall_quality",
            "argilla-judge_lm", "code-complexity", "code-style", "code-explanation", "code-instruction-following",
            "code-readability");

    /**
     * ArmoRM's gating network: {@code nHidden} linear layers of {@code hiddenDim} with biases and ReLU, a last linear
     * layer to the objectives (with bias), a softmax at {@code temperature}, times {@code logit_scale}; read at the start
     * of the last occurrence of the assistant header in the conversation.
     */
    public record Gating(double temperature, int hiddenDim, int nHidden) {
    }

    /** The sequence-classification architectures this library runs, to the causal LM of the same body. */
    public static final Map<String, String> BODIES = Map.of(
            "LlamaForSequenceClassification", "LlamaForCausalLM",
            "MistralForSequenceClassification", "MistralForCausalLM",
            "Qwen2ForSequenceClassification", "Qwen2ForCausalLM",
            "Qwen3ForSequenceClassification", "Qwen3ForCausalLM");

    /** The name of the classification head's weight, {@code [numLabels, hidden]} (no bias). */
    public static final String HEAD = "score.weight";

    /** Validates the fields. */
    public ClassifierConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(body, "body");
        labels = List.copyOf(labels);
        if (numLabels < 1 || labels.size() != numLabels) {
            throw new IllegalArgumentException("numLabels " + numLabels + " with " + labels.size() + " label names");
        }
    }

    /** Reads {@code config.json} of a model folder. */
    public static ClassifierConfig readFolder(Path folder) throws IOException {
        Path file = folder.resolve(ModelConfigReader.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(folder + ": no " + ModelConfigReader.FILE_NAME + " (a reward model folder needs"
                    + " config.json, the safetensors weights and the tokenizer files)");
        }
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /**
     * Parses the text of a {@code config.json}; {@code source} names it in messages.
     *
     * @throws CheckpointException naming the source and field when it is not a sequence-classification model this
     *                             library runs (a causal LM, ArmoRM's gating head, another body) or a field is wrong
     */
    public static ClassifierConfig parse(String json, String source) {
        JsonObject o = ModelConfigReader.object(json, source);
        String arch = firstArchitecture(o, source);
        if (arch.equals(ARMO_RM)) {
            return armoRm(o, source);
        }
        String causal = BODIES.get(arch);
        if (causal == null) {
            String why = arch.endsWith("ForCausalLM") || arch.equals("GPT2LMHeadModel")
                    ? "is a causal language model, not a reward model: it has no 'score' head"
                    : "is not a sequence-classification architecture this library runs";
            throw new CheckpointException(source + ": architecture '" + arch + "' " + why + " (supported: "
                    + String.join(", ", new TreeMap<>(BODIES).keySet()) + ", " + ARMO_RM + ")");
        }
        JsonObject bodyJson = o.deepCopy();
        JsonArray archs = new JsonArray();
        archs.add(causal);
        bodyJson.add("architectures", archs);
        ModelConfig body = ModelConfigReader.parse(bodyJson.toString(), source);
        List<String> names = labelNames(o, source);
        int labels;
        JsonElement n = o.get("num_labels");
        if (n != null && !n.isJsonNull()) {
            if (!n.isJsonPrimitive() || !n.getAsJsonPrimitive().isNumber() || n.getAsDouble() != Math.floor(n.getAsDouble())
                    || n.getAsDouble() < 1 || n.getAsDouble() > 1 << 20) {
                throw new CheckpointException(source + ": field 'num_labels' must be an integer in [1, 2^20], found " + n);
            }
            labels = n.getAsInt();
        } else {
            labels = names.isEmpty() ? 2 : names.size();
        }
        if (names.size() != labels) {
            if (!names.isEmpty()) {
                throw new CheckpointException(source + ": field 'id2label' names " + names.size() + " labels, but"
                        + " 'num_labels' is " + labels);
            }
            for (int i = 0; i < labels; i++) {
                names.add("LABEL_" + i);
            }
        }
        Integer pad = null;
        JsonElement p = o.get("pad_token_id");
        if (p != null && !p.isJsonNull()) {
            if (!p.isJsonPrimitive() || !p.getAsJsonPrimitive().isNumber() || p.getAsDouble() < 0
                    || p.getAsDouble() != Math.floor(p.getAsDouble())) {
                throw new CheckpointException(source + ": field 'pad_token_id' must be a non-negative integer or null,"
                        + " found " + p);
            }
            pad = p.getAsInt();
        }
        return new ClassifierConfig(arch, body, labels, names, pad, null);
    }

    private static ClassifierConfig armoRm(JsonObject o, String source) {
        JsonObject bodyJson = o.deepCopy();
        JsonArray archs = new JsonArray();
        archs.add("LlamaForCausalLM");
        bodyJson.add("architectures", archs);
        ModelConfig body = ModelConfigReader.parse(bodyJson.toString(), source);
        int objectives = positiveInt(o, "num_objectives", null, source);
        double temperature = o.has("gating_temperature") && !o.get("gating_temperature").isJsonNull()
                ? number(o, "gating_temperature", source) : 10;
        if (!(temperature > 0)) {
            throw new CheckpointException(source + ": field 'gating_temperature' must be > 0, found " + temperature);
        }
        Gating gating = new Gating(temperature, positiveInt(o, "gating_hidden_dim", 1024, source),
                positiveInt(o, "gating_n_hidden", 3, source));
        List<String> names = objectives == ARMO_RM_OBJECTIVES.size() ? ARMO_RM_OBJECTIVES : new ArrayList<>();
        if (names.isEmpty()) {
            for (int i = 0; i < objectives; i++) {
                names.add("objective_" + i);
            }
        }
        Integer pad = o.has("pad_token_id") && !o.get("pad_token_id").isJsonNull()
                ? positiveInt(o, "pad_token_id", null, source) : null;
        return new ClassifierConfig(ARMO_RM, body, objectives, names, pad, gating);
    }

    private static int positiveInt(JsonObject o, String field, Integer fallback, String source) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            if (fallback == null) {
                throw new CheckpointException(source + ": missing field '" + field + "'");
            }
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || e.getAsDouble() != Math.floor(e.getAsDouble())
                || e.getAsDouble() < 0 || e.getAsDouble() > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": field '" + field + "' must be a non-negative integer, found " + e);
        }
        return e.getAsInt();
    }

    private static double number(JsonObject o, String field, String source) {
        JsonElement e = o.get(field);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new CheckpointException(source + ": field '" + field + "' must be a number, found " + e);
        }
        return e.getAsDouble();
    }

    private static String firstArchitecture(JsonObject o, String source) {
        JsonElement a = o.get("architectures");
        if (a == null || !a.isJsonArray() || a.getAsJsonArray().isEmpty()
                || !a.getAsJsonArray().get(0).isJsonPrimitive()) {
            throw new CheckpointException(source + ": field 'architectures' must be a list naming the model class, e.g."
                    + " [\"Qwen3ForSequenceClassification\"], found " + a);
        }
        return a.getAsJsonArray().get(0).getAsString();
    }

    /** {@code id2label}'s names in the order of their ids; empty when absent. */
    private static List<String> labelNames(JsonObject o, String source) {
        List<String> out = new ArrayList<>();
        JsonElement e = o.get("id2label");
        if (e == null || e.isJsonNull()) {
            return out;
        }
        if (!e.isJsonObject()) {
            throw new CheckpointException(source + ": field 'id2label' must be an object of id to name, found " + e);
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Map.Entry<String, JsonElement> kv : e.getAsJsonObject().entrySet()) {
            int id;
            try {
                id = Integer.parseInt(kv.getKey());
            } catch (NumberFormatException ex) {
                throw new CheckpointException(source + ": field 'id2label' has the key '" + kv.getKey()
                        + "', expected label ids 0, 1, ...");
            }
            byId.put(id, kv.getValue().isJsonPrimitive() ? kv.getValue().getAsString() : kv.getValue().toString());
        }
        for (int i = 0; i < byId.size(); i++) {
            if (!byId.containsKey(i)) {
                throw new CheckpointException(source + ": field 'id2label' lacks label id " + i + " (ids must be 0 to "
                        + (byId.size() - 1) + ")");
            }
            out.add(byId.get(i));
        }
        return out;
    }
}
