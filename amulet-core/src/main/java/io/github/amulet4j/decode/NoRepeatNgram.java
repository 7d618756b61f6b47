package io.github.amulet4j.decode;

/**
 * Hugging Face's {@code no_repeat_ngram_size}: masks to {@code -inf} every token that would complete an
 * n-gram already present in the history (prompt and generated tokens), i.e. every token that followed an
 * earlier occurrence of the last {@code n - 1} tokens. With {@code n = 1} every token of the history is
 * banned. Nothing is banned while the history is shorter than {@code n - 1} tokens.
 */
public final class NoRepeatNgram implements HistoryProcessor {

    private final int n;

    /** @param n the n-gram size, {@code >= 1} */
    public NoRepeatNgram(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("no-repeat n-gram size must be >= 1, got " + n);
        }
        this.n = n;
    }

    @Override
    public void process(TokenHistory history, float[] logits, int off, int vocab) {
        int len = history.length();
        if (len + 1 < n) {
            return;
        }
        int prefix = n - 1;
        // every start s of an n-gram history[s .. s+n) whose first n-1 tokens equal the last n-1 tokens
        for (int s = 0; s + n <= len; s++) {
            boolean match = true;
            for (int j = 0; j < prefix && match; j++) {
                match = history.get(s + j) == history.get(len - prefix + j);
            }
            if (match) {
                int banned = history.get(s + prefix);
                if (banned >= 0 && banned < vocab) {
                    logits[off + banned] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "NoRepeatNgram[" + n + "]";
    }
}
