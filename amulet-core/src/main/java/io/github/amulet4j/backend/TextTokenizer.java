package io.github.amulet4j.backend;

/**
 * Text to token ids and back, as the generation loop needs it: for stop strings and for streaming text
 * to a listener. A backend's tokenizer implements it.
 */
public interface TextTokenizer {

    /** Token ids of {@code text}, without special tokens added. */
    int[] encode(String text);

    /** Text of {@code ids}; special tokens are skipped. */
    String decode(int[] ids);

    /** Number of real tokens (the model's logits may be padded beyond it). */
    int vocabularySize();
}
