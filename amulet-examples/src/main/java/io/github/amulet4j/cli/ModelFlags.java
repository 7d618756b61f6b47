package io.github.amulet4j.cli;

import io.github.amulet4j.djl.ModelOptions;
import picocli.CommandLine.Option;

/** Which model a command uses ({@code --model}, {@code --revision}): a picocli mixin for every model command. */
public final class ModelFlags {

    @Option(names = "--model", paramLabel = "PATH|FILE.gguf|HUB_ID", defaultValue = ModelOptions.DEFAULT_MODEL,
            description = "A local Hugging Face model folder, a GGUF file (.gguf) or a Hub id (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--revision", paramLabel = "REV",
            description = "Hub revision (branch, tag or commit) when --model is a Hub id (default: main).")
    String revision;
}
