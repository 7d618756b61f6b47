package io.github.amulet4j.transformer.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The parts of a {@link WeightMatrix#stacked} matrix: row ranges one above the other, each a {@link WeightMatrix} in a
 * format of its own, multiplied part by part into the rows of one product. Each part's rows get the bits they get when
 * the part is multiplied alone: the native kernels run on the part with the output rows offset (the activations
 * quantized once for each kind of input the parts read, {@link #quantize}); the Java kernels write a part's rows into a
 * per-thread buffer of the part's height, copied into place.
 */
final class StackedRows {

    private final WeightMatrix[] parts;
    /** First row of each part, and the total rows at the end. */
    private final int[] starts;
    /** The {@link QuantizedInput#slot} each part's input is quantized into. */
    private final int[] slots;
    /** For each slot, the first part that reads it (which quantizes it). */
    private final int[] slotOwners;

    /** The per-thread output buffer of the Java kernels' product of one part. */
    private static final ThreadLocal<float[]> PART_Y = ThreadLocal.withInitial(() -> new float[0]);

    StackedRows(List<WeightMatrix> list) {
        Objects.requireNonNull(list, "parts");
        if (list.size() < 2) {
            throw new IllegalArgumentException("a stacked matrix needs at least two parts, got " + list.size());
        }
        parts = list.toArray(new WeightMatrix[0]);
        starts = new int[parts.length + 1];
        slots = new int[parts.length];
        List<String> kinds = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            WeightMatrix p = Objects.requireNonNull(parts[i], "part " + i);
            if (p.isStacked() || p.interleaved()) {
                throw new IllegalArgumentException("part " + i + " (" + p + ") is stacked or interleaved already");
            }
            if (p.cols() != parts[0].cols()) {
                throw new IllegalArgumentException("part " + i + " has " + p.cols() + " columns, part 0 has "
                        + parts[0].cols() + ": stacked parts need the same width");
            }
            starts[i + 1] = Math.addExact(starts[i], p.rows());
            String kind = inputKind(p.format());
            int s = kinds.indexOf(kind);
            if (s < 0) {
                s = kinds.size();
                kinds.add(kind);
                owners.add(i);
            }
            slots[i] = s;
        }
        slotOwners = owners.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * What the native kernels of {@code format} read the activations as: parts of one kind share one quantized input
     * (Q8_0 and Q4_0 blocks of 32; the K-quants blocks of 256; F32, F16 and BF16 each their own copy).
     */
    private static String inputKind(WeightFormat format) {
        if (format.superBlocks()) {
            return "blocks of 256";
        }
        return format.quantized() ? "blocks of 32" : format.name();
    }

    WeightMatrix part(int i) {
        return parts[i];
    }

    List<WeightMatrix> parts() {
        return List.of(parts);
    }

    /** First row of part {@code i}. */
    int start(int i) {
        return starts[i];
    }

    int rows() {
        return starts[parts.length];
    }

    /** The part that holds row {@code r}. */
    int partOf(int r) {
        int i = 0;
        while (r >= starts[i + 1]) {
            i++;
        }
        return i;
    }

    long byteSize() {
        long total = 0;
        for (WeightMatrix p : parts) {
            total += p.byteSize();
        }
        return total;
    }

    boolean anyOffHeap() {
        for (WeightMatrix p : parts) {
            if (p.offHeap()) {
                return true;
            }
        }
        return false;
    }

    /** Rows {@code [from, to)} of the product by the Java kernels: each part into its own buffer, copied into place. */
    void multiply(float[] x, int n, float[] y, int from, int to) {
        int rows = rows();
        for (int i = 0; i < parts.length; i++) {
            int lo = Math.max(from, starts[i]);
            int hi = Math.min(to, starts[i + 1]);
            if (lo >= hi) {
                continue;
            }
            WeightMatrix p = parts[i];
            int h = p.rows();
            float[] partY = PART_Y.get();
            if (partY.length < n * h) {
                partY = new float[n * h];
                PART_Y.set(partY);
            }
            p.multiply(x, n, partY, lo - starts[i], hi - starts[i]);
            for (int c = 0; c < n; c++) {
                System.arraycopy(partY, c * h + lo - starts[i], y, c * rows + lo, hi - lo);
            }
        }
    }

    /** The activations prepared for every part: once for each kind of input, by the first part that reads it. */
    void quantize(float[] x, int n, QuantizedInput into) {
        for (int s = 0; s < slotOwners.length; s++) {
            parts[slotOwners[s]].quantize(x, n, into.slot(s));
        }
    }

    /** Rows {@code [from, to)} of the native product, each part on its own input at its rows of {@code y}. */
    void multiply(QuantizedInput q, float[] y, int from, int to) {
        int rows = rows();
        for (int i = 0; i < parts.length; i++) {
            int lo = Math.max(from, starts[i]);
            int hi = Math.min(to, starts[i + 1]);
            if (lo < hi) {
                parts[i].multiplyRows(q.slot(slots[i]), y, lo - starts[i], hi - starts[i], starts[i], rows);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            b.append(i == 0 ? "" : " + ").append(parts[i].format()).append(' ').append(parts[i].rows());
        }
        return b.toString();
    }
}
