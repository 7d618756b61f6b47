package io.github.amulet4j.prompt;

/**
 * A stream's prompt could not be rendered: the chat template rejected the system role and the retry with the
 * system text folded into the first user turn failed too. The message holds both errors; the cause is the retry's,
 * the rejection is attached as suppressed.
 */
public class PromptRenderException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PromptRenderException(String message, Throwable cause) {
        super(message, cause);
    }
}
