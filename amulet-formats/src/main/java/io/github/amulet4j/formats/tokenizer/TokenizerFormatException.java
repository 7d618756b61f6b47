package io.github.amulet4j.formats.tokenizer;

/** A tokenizer or generation file that cannot be used: the message names the file, the field and what was expected. */
public class TokenizerFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a complete message. */
    public TokenizerFormatException(String message) {
        super(message);
    }

    /** An error with a complete message and its cause. */
    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
