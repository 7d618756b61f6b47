package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.GgufTokenizer;

import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.formats.gguf.GgufModelConfig;
import io.github.amulet4j.formats.gguf.GgufTensorStore;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A GGUF model file opened for loading: its {@link ModelConfig}, its weights as a {@link TensorStore} under
 * Hugging Face names, and its tokenizer and chat template. Closing it closes the file (stores handed out must
 * not be read after that).
 */
public final class GgufModel implements AutoCloseable {

    /** The file name extension of GGUF files. */
    public static final String EXTENSION = ".gguf";

    private final GgufFile file;
    private final ModelConfig config;

    private GgufModel(GgufFile file, ModelConfig config) {
        this.file = file;
        this.config = config;
    }

    /** Whether a path names a GGUF file (by its extension, case-insensitive). */
    public static boolean isGgufPath(String path) {
        return path != null && path.toLowerCase(Locale.ROOT).endsWith(EXTENSION);
    }

    /**
     * Whether a path names a GGUF file: by its extension, or (a file without it, such as an Ollama blob
     * {@code sha256-...}) by the magic {@code GGUF} at its start.
     */
    public static boolean isGguf(String path) {
        if (isGgufPath(path)) {
            return true;
        }
        try {
            Path p = Path.of(path);
            if (!java.nio.file.Files.isRegularFile(p)) {
                return false;
            }
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(p)) {
                byte[] magic = in.readNBytes(4);
                return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
            }
        } catch (IOException | java.nio.file.InvalidPathException | SecurityException e) {
            return false;
        }
    }

    /**
     * Opens a GGUF model file and reads its configuration.
     *
     * @throws GgufFormatException naming the file and the field for a corrupt file or an unsupported model
     */
    public static GgufModel open(Path path) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            return new GgufModel(f, GgufModelConfig.read(f));
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The file. */
    public GgufFile file() {
        return file;
    }

    /** The configuration from the metadata. */
    public ModelConfig config() {
        return config;
    }

    /** The weights under Hugging Face names (valid while this model is open; closing the store is a no-op). */
    public GgufTensorStore weights() {
        return GgufTensorStore.of(file, config);
    }

    /** The tokenizer and its config built from the metadata. */
    public GgufTokenizer tokenizerSpec() {
        return GgufTokenizer.of(file);
    }

    /** A tokenizer built from the metadata (the caller closes it). */
    public HfTokenizer tokenizer() throws IOException {
        return HfTokenizer.fromGguf(tokenizerSpec(), file.path());
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
