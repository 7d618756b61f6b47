package io.github.amulet4j.formats.json;

/** A JSON file that cannot be used: the message names the file, the field and what was expected. */
public class JsonFieldException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a complete message. */
    public JsonFieldException(String message) {
        super(message);
    }

    /** An error with a complete message and its cause. */
    public JsonFieldException(String message, Throwable cause) {
        super(message, cause);
    }
}
