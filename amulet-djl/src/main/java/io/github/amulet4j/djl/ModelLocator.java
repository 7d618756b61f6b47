package io.github.amulet4j.djl;

import io.github.amulet4j.djl.hub.HubId;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Tells a local model folder or GGUF file from a Hugging Face Hub id. A string that names an existing directory,
 * that ends in {@code .gguf}, or that is written like a path ({@code /...}, {@code ./...}, {@code ../...},
 * {@code ~/...}, more than one {@code /}), is local; {@code org/name[@revision]} made of the Hub's characters is a Hub id.
 */
public final class ModelLocator {

    private ModelLocator() {
    }

    /** Whether {@code model} is meant as a local folder (it may not exist). */
    public static boolean isLocalPath(String model) {
        if (model.startsWith("/") || model.startsWith("./") || model.startsWith("../") || model.startsWith("~")
                || model.equals(".") || model.equals("..") || model.contains("\\")
                || io.github.amulet4j.djl.gguf.GgufModel.isGguf(model)) {
            return true;
        }
        try {
            if (Files.isDirectory(Path.of(model))) {
                return true;
            }
        } catch (InvalidPathException e) {
            return false;
        }
        return !HubId.looksLikeHubId(model);
    }

    /** Whether {@code model} is a Hub id ({@code org/name[@revision]}) and not a local folder. */
    public static boolean isHubId(String model) {
        return !isLocalPath(model);
    }

    /** The local folder {@code model} names, with a leading {@code ~} expanded to the user's home. */
    public static Path localFolder(String model) {
        if (model.equals("~") || model.startsWith("~/")) {
            return Path.of(System.getProperty("user.home") + model.substring(1));
        }
        return Path.of(model);
    }
}
