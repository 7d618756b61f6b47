package io.github.amulet4j.generate;

/** Why a request stopped generating. */
public enum FinishReason {
    /** An end-of-sequence token was chosen (it is not part of the output). */
    EOS,
    /** {@code maxNewTokens} tokens were generated. */
    MAX_NEW_TOKENS,
    /** The text contained a stop string (the text is cut before it). */
    STOP_STRING,
    /** The model's context is full. */
    MAX_POSITIONS
}
