package io.github.amulet4j.formats.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds and opens the weights of a Hugging Face model folder. */
public final class Checkpoints {

    /** The single-file weights name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The sharded weights index name. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private Checkpoints() {
    }

    /**
     * Opens {@code model.safetensors} if present, else the shards listed by {@code model.safetensors.index.json}.
     *
     * @throws CheckpointException naming the folder and the expected file names when neither exists (and
     *                             mentioning other weight formats found there), or when a file is corrupt
     */
    public static TensorStore open(Path modelDir) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            throw new CheckpointException("model folder not found: " + modelDir);
        }
        Path single = modelDir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        Path index = modelDir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return ShardedCheckpoint.open(index);
        }
        List<String> others = new ArrayList<>();
        try (Stream<Path> s = Files.list(modelDir)) {
            s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".bin") || n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".gguf")
                            || n.endsWith(".onnx") || n.endsWith(".safetensors") || n.endsWith(".h5") || n.endsWith(".msgpack"))
                    .sorted().forEach(others::add);
        }
        StringBuilder msg = new StringBuilder("no model weights in ").append(modelDir)
                .append(": expected ").append(SINGLE_FILE).append(" or ").append(INDEX_FILE);
        if (!others.isEmpty()) {
            msg.append("; found only ").append(others)
                    .append(" (only safetensors named as above are read; convert other formats to safetensors)");
        }
        throw new CheckpointException(msg.toString());
    }
}
