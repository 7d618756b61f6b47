package io.github.amulet4j.backend;

import java.util.Objects;

/**
 * A row-major {@code [rows, vocab]} block of float logits. The array is shared, not copied: a
 * backend may reuse it after the next forward pass.
 *
 * @param data  row-major values, length at least {@code rows * vocab}
 * @param rows  number of rows (streams)
 * @param vocab number of logits per row
 */
public record Logits(float[] data, int rows, int vocab) {

    public Logits {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || vocab <= 0) {
            throw new IllegalArgumentException("rows must be >= 0 and vocab > 0, got rows=" + rows + ", vocab=" + vocab);
        }
        if ((long) rows * vocab > data.length) {
            throw new IllegalArgumentException("data holds " + data.length + " floats, need rows*vocab = " + ((long) rows * vocab));
        }
    }

    /** Offset of row {@code r} in {@link #data()}. */
    public int offset(int r) {
        Objects.checkIndex(r, rows);
        return r * vocab;
    }

    /** A copy of row {@code r}. */
    public float[] row(int r) {
        float[] out = new float[vocab];
        System.arraycopy(data, offset(r), out, 0, vocab);
        return out;
    }
}
