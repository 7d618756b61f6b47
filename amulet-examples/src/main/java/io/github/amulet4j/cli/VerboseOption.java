package io.github.amulet4j.cli;

import picocli.CommandLine.Option;

/** The {@code --verbose} flag every command carries: stack traces and debug logs on stderr. */
public final class VerboseOption {

    @Option(names = {"-v", "--verbose"}, description = "Print stack traces on errors and debug logs.")
    boolean verbose;

    /** Whether {@code --verbose} was given. */
    public boolean verbose() {
        return verbose;
    }
}
