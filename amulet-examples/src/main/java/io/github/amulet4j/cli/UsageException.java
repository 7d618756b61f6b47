package io.github.amulet4j.cli;

/**
 * A bad argument found after parsing (an unknown preset, a missing model folder, a dataset in the wrong
 * format). The command line reports its message on one line and exits with code 2.
 */
public final class UsageException extends RuntimeException {

    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
