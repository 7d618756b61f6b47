package io.github.amulet4j.generate;

/**
 * Receives tokens as soon as they are chosen (streaming). Called on the generating thread; keep it quick.
 *
 * <p>For each request, the concatenation of the {@code textDelta}s equals {@link GenerationResult#text()}.
 * A delta may be empty while text is held back (an incomplete character, or text that may be the start
 * of a stop string); held-back text that belongs to the result is flushed when the request finishes,
 * with {@code tokenId} {@link #NO_TOKEN}. End-of-sequence tokens are not reported. Beam search reports its
 * tokens when the search ends, since the best beam is only known then.
 */
@FunctionalInterface
public interface TokenListener {

    /** {@code tokenId} of a flush of held-back text. */
    int NO_TOKEN = -1;

    /** A listener that ignores everything. */
    TokenListener NONE = (request, tokenId, textDelta) -> { };

    /**
     * @param request   index of the request in the batch
     * @param tokenId   the chosen token, or {@link #NO_TOKEN}
     * @param textDelta new text since the previous call for this request (may be empty)
     */
    void onToken(int request, int tokenId, String textDelta);

    /** Called once per request when it finishes. */
    default void onFinish(int request, GenerationResult result) {
    }
}
