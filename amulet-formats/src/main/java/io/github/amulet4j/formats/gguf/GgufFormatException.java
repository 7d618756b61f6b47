package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.CheckpointException;

/** A GGUF file that cannot be used as it is: the message names the file, the field or tensor, and what was expected. */
public class GgufFormatException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    /** An error with a complete message. */
    public GgufFormatException(String message) {
        super(message);
    }

    /** An error with a complete message and its cause. */
    public GgufFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
