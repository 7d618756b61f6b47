package io.github.amulet4j.generate;

import io.github.amulet4j.decode.TokenHistory;
import java.util.Arrays;

/** One stream's prompt (shared, never written) and the tokens generated for it; a beam copies it. */
final class StreamHistory implements TokenHistory {

    private final int[] prompt;
    private int[] generated;
    private int count;

    StreamHistory(int[] prompt) {
        this.prompt = prompt;
        this.generated = new int[16];
    }

    private StreamHistory(StreamHistory o) {
        this.prompt = o.prompt;
        this.generated = Arrays.copyOf(o.generated, Math.max(16, o.count + 8));
        this.count = o.count;
    }

    void append(int token) {
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count++] = token;
    }

    StreamHistory copy() {
        return new StreamHistory(this);
    }

    @Override
    public int length() {
        return prompt.length + count;
    }

    @Override
    public int promptLength() {
        return prompt.length;
    }

    @Override
    public int get(int i) {
        if (i < 0 || i >= prompt.length + count) {
            throw new IndexOutOfBoundsException("token " + i + " of a history of " + (prompt.length + count));
        }
        return i < prompt.length ? prompt[i] : generated[i - prompt.length];
    }
}
