package io.github.amulet4j.cli;

import io.github.amulet4j.align.AlignmentMethod;
import picocli.CommandLine.Option;

/** {@code --method} of {@code generate} and {@code chat}. */
public final class MethodFlag {

    @Option(names = "--method", paramLabel = "base|pref|la|amulet|beam", defaultValue = "amulet",
            description = "Decoding method (default: ${DEFAULT-VALUE}).")
    String method;

    /** The method, checked. */
    AlignmentMethod method() {
        return Options.method(method, "--method");
    }
}
