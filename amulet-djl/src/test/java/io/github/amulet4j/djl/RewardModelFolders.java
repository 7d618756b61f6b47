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

}
