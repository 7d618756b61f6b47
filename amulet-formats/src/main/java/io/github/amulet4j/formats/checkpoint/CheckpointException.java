package io.github.amulet4j.formats.checkpoint;

/**
 * A model folder, {@code config.json} or weights file that cannot be used as it is: the message names the
 * file, the field or tensor, and what was expected.
 */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a complete message. */
    public CheckpointException(String message) {
        super(message);
    }

    /** An error with a complete message and its cause. */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
