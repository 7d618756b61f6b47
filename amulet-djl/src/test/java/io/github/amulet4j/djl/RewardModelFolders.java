package io.github.amulet4j.djl;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.TensorStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Tiny reward models in the Hugging Face layout, for tests (this module's and, through its test jar, the CLI's). */
public final class RewardModelFolders {

    private RewardModelFolders() {
    }

    /**
     * Turns a random causal-LM folder into a sequence-classification folder: the architecture, {@code num_labels}
     * labels named {@code objective_i}, the pad id (or none), and a random {@code score.weight} in place of
     * {@code lm_head.weight}; returns the head's values, row-major.
     */
    public static float[] write(Path folder, RandomModelFolder.Shape shape, String arch, int labels,
                                          Integer pad) throws IOException {
        ModelConfig body = RandomModelFolder.write(folder, shape, 11, SafetensorsDtype.F32);
        Path configFile = folder.resolve("config.json");
        JsonObject config = JsonParser.parseString(Files.readString(configFile)).getAsJsonObject();
        JsonArray archs = new JsonArray();
        archs.add(arch);
        config.add("architectures", archs);
        config.addProperty("num_labels", labels);
        JsonObject id2label = new JsonObject();
        for (int i = 0; i < labels; i++) {
            id2label.addProperty(Integer.toString(i), "objective_" + i);
        }
        config.add("id2label", id2label);
        if (pad != null) {
            config.addProperty("pad_token_id", pad);
        }
        Files.writeString(configFile, config.toString(), StandardCharsets.UTF_8);
        float[] score = new float[labels * body.hiddenSize()];
        Random r = new Random(5);
        for (int i = 0; i < score.length; i++) {
            score[i] = (float) r.nextGaussian() * 0.3f;
        }
        InMemoryTensorStore store = new InMemoryTensorStore();
        try (TensorStore in = Checkpoints.open(folder)) {
            for (String n : in.names()) {
                if (!n.equals("lm_head.weight")) {
                    store.put(n, in.shape(n), in.readFloat32(n));
                }
            }
        }
        store.put(ClassifierConfig.HEAD, new long[] {labels, body.hiddenSize()}, score);
        SafetensorsWriter.write(folder.resolve("model.safetensors"), store, SafetensorsDtype.F32);
        return score;
    }


    /** A Llama 3 chat template (as Meta's, without tools and dates). */
    public static final String LLAMA3_TEMPLATE = "{{- bos_token }}{%- for message in messages %}"
            + "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
            + " + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}"
            + "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

    /** The tensors of a tiny ArmoRM head, as {@link #writeArmoRm} writes them. */
    public record ArmoRmHead(float[] regression, float[][] weights, float[][] biases, float logitScale,
                             float[] transform, int objectives, int hiddenDim, int nHidden, double temperature) {
    }

    /**
     * A tiny ArmoRM ({@code LlamaForRewardModelWithGating}): a random Llama body with a Llama 3 style tokenizer (its
     * post-processor prepends {@code <|begin_of_text|>}, as Llama 3's does) and
     * chat template, {@code objectives} objectives, a gating network of {@code nHidden} layers of {@code hiddenDim},
     * a random (not identity) reward transform and logit scale.
     */
    public static ArmoRmHead writeArmoRm(Path folder, int objectives, int hiddenDim, int nHidden, double temperature)
            throws IOException {
        ModelConfig body = RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_LLAMA, 13, SafetensorsDtype.F32);
        io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter tok = io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter
                .builder().vocabSize(1000).specialTokens(java.util.List.of("<|begin_of_text|>", "<|end_of_text|>",
                        "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"))
                .bosToken("<|begin_of_text|>").eosToken("<|eot_id|>").padToken(null).addBosToken(false)
                .postProcessorAddsBos(true)
                .chatTemplate(LLAMA3_TEMPLATE).build();
        tok.writeTo(folder);
        Path configFile = folder.resolve("config.json");
        JsonObject config = JsonParser.parseString(Files.readString(configFile)).getAsJsonObject();
        JsonArray archs = new JsonArray();
        archs.add(ClassifierConfig.ARMO_RM);
        config.add("architectures", archs);
        config.addProperty("num_objectives", objectives);
        config.addProperty("gating_hidden_dim", hiddenDim);
        config.addProperty("gating_n_hidden", nHidden);
        config.addProperty("gating_temperature", temperature);
        config.addProperty("pad_token_id", tok.specialTokenId("<|end_of_text|>"));
        Files.writeString(configFile, config.toString(), StandardCharsets.UTF_8);
        Random r = new Random(17);
        int h = body.hiddenSize();
        InMemoryTensorStore store = new InMemoryTensorStore();
        try (TensorStore in = Checkpoints.open(folder)) {
            for (String n : in.names()) {
                if (!n.equals("lm_head.weight")) {
                    store.put(n, in.shape(n), in.readFloat32(n));
                }
            }
        }
        float[] regression = gaussian(r, objectives * h, 0.3f);
        store.put("regression_layer.weight", new long[] {objectives, h}, regression);
        float[][] w = new float[nHidden + 1][];
        float[][] b = new float[nHidden + 1][];
        int in = h;
        for (int i = 0; i <= nHidden; i++) {
            int out = i < nHidden ? hiddenDim : objectives;
            w[i] = gaussian(r, out * in, 0.4f);
            b[i] = gaussian(r, out, 0.1f);
            store.put("gating.layers." + i + ".weight", new long[] {out, in}, w[i]);
            store.put("gating.layers." + i + ".bias", new long[] {out}, b[i]);
            in = out;
        }
        float scale = 1.7f;
        store.put("gating.logit_scale", new long[] {1}, new float[] {scale});
        float[] transform = gaussian(r, objectives * objectives, 0.5f);
        store.put("reward_transform_matrix", new long[] {objectives, objectives}, transform);
        SafetensorsWriter.write(folder.resolve("model.safetensors"), store, SafetensorsDtype.F32);
        return new ArmoRmHead(regression, w, b, scale, transform, objectives, hiddenDim, nHidden, temperature);
    }

    private static float[] gaussian(Random r, int n, float std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * std;
        }
        return v;
    }
}
