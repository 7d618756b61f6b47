package io.github.amulet4j.decode;

/**
 * The tokens of one stream so far, as a {@link HistoryProcessor} sees them: the stream's prompt, then the
 * tokens generated for the request (Hugging Face's {@code input_ids}). A read-only view; valid during the
 * call it is given to.
 */
public interface TokenHistory {

    /** Prompt tokens plus generated tokens. */
    int length();

    /** Tokens of the prompt (the first {@code promptLength()} of the history). */
    int promptLength();

    /** Token {@code i}, {@code 0 <= i < length()}. */
    int get(int i);

    /** Tokens generated so far. */
    default int generatedLength() {
        return length() - promptLength();
    }

    /** A copy of the whole history. */
    default int[] toArray() {
        int[] a = new int[length()];
        for (int i = 0; i < a.length; i++) {
            a[i] = get(i);
        }
        return a;
    }

    /** A history of the given tokens, the first {@code promptLength} being the prompt (for tests and tools). */
    static TokenHistory of(int[] tokens, int promptLength) {
        int[] t = tokens.clone();
        if (promptLength < 0 || promptLength > t.length) {
            throw new IllegalArgumentException("promptLength must be in [0, " + t.length + "], got " + promptLength);
        }
        return new TokenHistory() {
            @Override
            public int length() {
                return t.length;
            }

            @Override
            public int promptLength() {
                return promptLength;
            }

            @Override
            public int get(int i) {
                return t[i];
            }
        };
    }
}
