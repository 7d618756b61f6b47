package io.github.amulet4j.djl;

import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.hub.HubDownloader;
import io.github.amulet4j.djl.hub.HubId;
import io.github.amulet4j.djl.hub.HubSettings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the local folder (or GGUF file) of the model {@link ModelOptions} names, fetching a Hub id into the Hugging
 * Face cache.
 */
final class ModelFiles {

    private ModelFiles() {
    }

    /**
     * The local folder holding the model's files.
     *
     * @param weights whether the weights are needed too (false: config and tokenizer files only)
     * @throws IllegalArgumentException when a local folder does not exist
     * @throws IOException              when a download fails
     */
    static Path resolve(ModelOptions options, boolean weights) throws IOException {
        String model = options.model();
        if (ModelLocator.isLocalPath(model)) {
            Path folder = ModelLocator.localFolder(model);
            if (GgufModel.isGguf(folder.toString())) {
                if (!Files.isRegularFile(folder)) {
                    throw new IllegalArgumentException("GGUF model file " + folder + " does not exist");
                }
                return folder;
            }
            if (!Files.isDirectory(folder)) {
                throw new IllegalArgumentException("model folder " + folder + " does not exist"
                        + (Files.exists(folder) ? " (it is a file; expected a Hugging Face model folder)" : ""));
            }
            return folder;
        }
        HubId id = model.contains("@") ? HubId.parse(model) : new HubId(model, options.revision());
        HubDownloader downloader = HubDownloader.builder()
                .settings(options.hubSettings().orElseGet(HubSettings::fromEnvironment))
                .listener(options.downloadListener()).build();
        if (!weights) {
            // the prompt side needs no weights: a snapshot already in the cache will do
            var cached = downloader.cachedSnapshot(id);
            if (cached.isPresent() && Files.isRegularFile(cached.get().resolve("config.json"))
                    && Files.isRegularFile(cached.get().resolve("tokenizer.json"))) {
                return cached.get();
            }
        }
        return downloader.resolve(id);
    }
}
