package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.weights.WeightFormat;
import io.github.amulet4j.transformer.weights.WeightMatrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The weights of one model for {@link JavaForward}: every linear weight and the output head as
 * a {@link WeightMatrix} in one {@link WeightFormat} (on the Java heap, or off it for the native kernels:
 * {@link WeightMatrix.Storage}) (converted from the checkpoint a few rows at a time, so loading
 * never holds a float32 copy of a whole matrix beside the weights), the embedding table for lookups (a tied table
 * serves both), and norms, biases and GPT-2's positions as float arrays.
 */
public final class JavaWeights {

    private static final Logger LOG = LoggerFactory.getLogger(JavaWeights.class);

    /** Weights of one decoder block; biases, q/k norms and Gemma's post-attention/post-feedforward norms may be null. */
    record Layer(float[] norm1, float[] norm1Bias, LinearWeight qkv, LinearWeight out, float[] qNorm, float[] kNorm,
                 float[] norm2, float[] norm2Bias, LinearWeight up, LinearWeight down, float[] postAttentionNorm,
                 float[] postFeedforwardNorm) {
    }

    final List<Layer> layers;
    final float[] finalNorm;
    final float[] finalNormBias;
    /** GPT-2's learned positions {@code [maxPositions, hidden]}; null for rotary models. */
    final float[] positions;
    /** The output head {@code [vocab, hidden]} (the embedding table when tied). */
    final LinearWeight head;
    private final WeightMatrix embedTable;
    /** The format asked for; null: each matrix keeps its checkpoint's ({@link #storedFormat}). */
    private final WeightFormat format;
    /** Where the matrices live. */
    private final WeightMatrix.Storage storage;
    private long heapBytes;
    private long offHeapBytes;
    /** Matrices whose rows are not whole 32-weight blocks, held as F16 instead of the block format. */
    private int fallbacks;
    /** Fused matrices held as parts in formats of their own ({@link WeightMatrix#stacked}). */
    private int stacked;

    /**
     * Reads the weights of {@code config} from {@code store} (only read; the caller closes it).
     *
     * @param format the format of the linear weights; null keeps each checkpoint tensor's own ({@link #storedFormat})
     */
    public JavaWeights(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format) {
        this(config, store, checkpoint, format, null);
    }

    /**
     * As {@link #JavaWeights(ModelConfig, TensorStore, String, WeightFormat)}, with {@code head} (a classification
     * head, e.g. a reward model's {@code score.weight}) as the output head in place of the language-model head, held
     * in F32 whatever {@code format} is; the embedding table then serves the lookups only. Null: the model's own head.
     */
    public JavaWeights(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                       CheckpointTensors.Matrix head) {
        this(config, store, checkpoint, format, head, WeightMatrix.Storage.HEAP);
    }

    /**
     * The general form: the matrices held in {@code storage} (off the heap for the native kernels, where they multiply
     * the format; the classification head and the float vectors always on it).
     */
    public JavaWeights(ModelConfig config, TensorStore store, String checkpoint, WeightFormat format,
                       CheckpointTensors.Matrix head, WeightMatrix.Storage storage) {
        this.format = format;
        this.storage = storage;
        CheckpointTensors tensors = new CheckpointTensors(config, store, checkpoint);
        positions = tensors.positions();
        List<Layer> ls = new ArrayList<>();
        for (int i = 0; i < tensors.layers(); i++) {
            CheckpointTensors.Layer l = tensors.layer(i);
            ls.add(new Layer(l.norm1(), l.norm1Bias(), linear(l.qkv(), l.qkvBias()), linear(l.out(), l.outBias()),
                    l.qNorm(), l.kNorm(), l.norm2(), l.norm2Bias(), linear(l.up(), l.upBias()),
                    linear(l.down(), l.downBias()), l.postAttentionNorm(), l.postFeedforwardNorm()));
        }
        layers = List.copyOf(ls);
        finalNorm = tensors.finalNorm();
        finalNormBias = tensors.finalNormBias();
        heapBytes += Float.BYTES * (length(positions) + length(finalNorm) + length(finalNormBias));
        for (Layer l : layers) {
            heapBytes += Float.BYTES * (length(l.norm1()) + length(l.norm1Bias()) + length(l.qkv().bias())
                    + length(l.out().bias()) + length(l.qNorm()) + length(l.kNorm()) + length(l.norm2())
                    + length(l.norm2Bias()) + length(l.up().bias()) + length(l.down().bias())
                    + length(l.postAttentionNorm()) + length(l.postFeedforwardNorm()));
        }
        if (head != null) {
            embedTable = matrix(tensors.embedding());
            // a classifier's head is a few rows (or an identity that reads the hidden state out): kept exact, in F32
            WeightMatrix exact = WeightMatrix.of(WeightFormat.F32, head.rows(), head.cols(), head.reader());
            heapBytes += exact.byteSize();
            this.head = new LinearWeight(exact, null);
        } else if (config.tieWordEmbeddings()) {
            this.head = linear(tensors.embedding(), null);
            embedTable = this.head.matrix();
        } else {
            embedTable = matrix(tensors.embedding());
            this.head = linear(tensors.head(), null);
        }
        if (fallbacks > 0) {
            LOG.info("{}: {} matrices have rows that are not whole {}-weight blocks and are held as F16 instead of {}",
                    checkpoint, fallbacks, WeightFormat.BLOCK, format == null ? "the checkpoint's format" : format);
        }
        if (stacked > 0) {
            LOG.info("{}: {} fused matrices (q/k/v, gate/up) have parts stored in different types, each held in its "
                    + "own", checkpoint, stacked);
        }
    }

    /**
     * Repacks every Q4_0 linear weight and the head in place for the native kernels
     * ({@link WeightMatrix#interleaveForNativeKernels}): once, at load, before the weights are shared; only where the
     * native kernels run every product. Returns how many matrices were repacked.
     */
    int interleaveForNativeKernels() {
        long start = System.nanoTime();
        int n = 0;
        for (Layer l : layers) {
            for (LinearWeight w : List.of(l.qkv(), l.out(), l.up(), l.down())) {
                n += w.matrix().interleaveForNativeKernels() ? 1 : 0;
            }
        }
        n += head.matrix().interleaveForNativeKernels() ? 1 : 0;
        if (n > 0) {
            LOG.debug("{} Q4_0 matrices interleaved by 8 rows for the native kernels in {} ms", n,
                    (System.nanoTime() - start) / 1_000_000);
        }
        return n;
    }

    private static long length(float[] a) {
        return a == null ? 0 : a.length;
    }

    private LinearWeight linear(CheckpointTensors.Matrix m, float[] bias) {
        return new LinearWeight(matrix(m), bias);
    }

    /**
     * {@code m} in the format for the kernels: the chosen one, or the checkpoint's. A tensor the store reads as stored
     * in a format kept here (a GGUF's Q8_0, Q4_0, Q4_K, Q5_K, Q6_K blocks or F16/BF16/F32 rows, a folder's BF16; Q5_0
     * blocks where the native kernels multiply them, off the heap), when no other format is chosen, is copied as the
     * file holds it ({@link WeightMatrix#fromStoredBytes}): nothing decoded or encoded again, and for the K-quants and
     * Q5_0 no Q8_0 copy. A fused matrix whose parts are stored in different types (a
     * Q4_K_M file's Q4_K q/k beside a Q6_K v), when no format is chosen, is held as its parts, each in its own format
     * ({@link WeightMatrix#stacked}), unless every part would be held in one format anyway, or some parts would live
     * on the heap and others off it (a format the native library lacks: no kernels would take the whole product).
     */
    private WeightMatrix matrix(CheckpointTensors.Matrix m) {
        WeightMatrix w;
        if (format == null && m.mixed() && asParts(m.parts())) {
            List<WeightMatrix> parts = new ArrayList<>();
            for (CheckpointTensors.Matrix p : m.parts()) {
                parts.add(single(p));
            }
            w = WeightMatrix.stacked(parts);
            stacked++;
        } else {
            w = single(m);
        }
        for (WeightMatrix p : w.parts()) {
            if (p.offHeap()) {
                offHeapBytes += p.byteSize();
            } else {
                heapBytes += p.byteSize();
            }
        }
        return w;
    }

    /** {@code m} as one matrix in one format ({@link #matrix}). */
    private WeightMatrix single(CheckpointTensors.Matrix m) {
        WeightFormat held = heldAsStored(m);
        if (held != null) {
            return WeightMatrix.fromStoredBytes(held, m.rows(), m.cols(), m.raw(), storage);
        }
        WeightFormat f = convertedFormat(m);
        if (f != (format == null ? storedFormat(m.dtype()) : format)) {
            fallbacks++;
        }
        return WeightMatrix.of(f, m.rows(), m.cols(), m.reader(), storage);
    }

    /** The format {@code m} is converted to where not kept as stored: the chosen one, or F16 where it does not fit. */
    private WeightFormat convertedFormat(CheckpointTensors.Matrix m) {
        WeightFormat f = format == null ? storedFormat(m.dtype()) : format;
        return f.fits(m.cols()) ? f : WeightFormat.F16;
    }

    /**
     * Whether {@code parts} are held apart ({@link WeightMatrix#stacked}): they would be held ({@link #single}) in more
     * than one format, all on the heap or all off it.
     */
    private boolean asParts(List<CheckpointTensors.Matrix> parts) {
        Set<WeightFormat> held = EnumSet.noneOf(WeightFormat.class);
        Set<Boolean> offHeap = new java.util.HashSet<>();
        for (CheckpointTensors.Matrix p : parts) {
            WeightFormat f = heldAsStored(p);
            f = f != null ? f : convertedFormat(p);
            held.add(f);
            offHeap.add(storage.offHeap(f));
        }
        return held.size() > 1 && offHeap.size() == 1;
    }

    /**
     * The format {@code m} is kept in as stored (its dtype, where the store reads its bytes, that format fits its
     * columns and no other format is chosen), or null where it is read as values.
     */
    private WeightFormat heldAsStored(CheckpointTensors.Matrix m) {
        if (m.raw() == null) {
            return null;
        }
        for (WeightFormat f : WeightFormat.values()) {
            // Q5_0 only where the native kernels' vector variants multiply it (off the heap); else as Q8_0
            boolean kept = f != WeightFormat.Q5_0 || storage.keepsStored(f);
            if (f.name().equalsIgnoreCase(m.dtype()) && f.fits(m.cols()) && (format == null || format == f) && kept) {
                return f;
            }
        }
        return null;
    }

    /**
     * The format a tensor stored as {@code dtype} is converted to when none is asked for and its blocks cannot be kept
     * as they are (a store that reads values only; a fused matrix of parts of different types that would all be held
     * in one format; Q5_0 for the Java kernels, which have no Q5_0 kernel): F32, BF16, F16, and Q8_0/Q4_0 as a GGUF
     * store names them (requantizing their dequantized values gives the same blocks back); GGUF's other block types
     * (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) as Q8_0, the nearest format with a quantizer that loses next to nothing
     * more; any other stored type as F32.
     */
    public static WeightFormat storedFormat(String dtype) {
        for (WeightFormat f : WeightFormat.values()) {
            if (!f.storedOnly() && f.name().equalsIgnoreCase(dtype)) {
                return f;
            }
        }
        if (dtype != null && Set.of("Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K").contains(dtype)) {
            return WeightFormat.Q8_0;
        }
        return WeightFormat.F32;
    }

    /** Bytes the Java kernels' weights of {@code config} take in {@code format} (null: the checkpoint's precision). */
    public static long bytesNeeded(ModelConfig config, TensorStore store, WeightFormat format) {
        WeightFormat f = formatHeld(store, format);
        double perWeight = (double) f.blockBytes() / f.blockWeights();
        long elements = linearElements(config);
        if (!config.tieWordEmbeddings()) {
            elements += (long) config.vocabSize() * config.hiddenSize();
        }
        return (long) Math.ceil(perWeight * elements);
    }

    /** Elements of every linear weight and the output head (the Java kernels' weights). */
    public static long linearElements(ModelConfig config) {
        long total = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expectedTensors(config).entrySet()) {
            long[] shape = e.getValue();
            String n = e.getKey();
            boolean matrix = shape.length == 2 && !n.endsWith("wpe.weight")
                    && (config.tieWordEmbeddings() || !(n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight")));
            if (matrix) {
                total += shape[0] * shape[1];
            }
        }
        return total;
    }

    /** The embedding row of token {@code id} into {@code out[offset...offset + hidden)}. */
    void embeddingRow(int id, float[] out, int offset) {
        embedTable.row(id, out, offset);
    }

    /** Bytes of the weights on the Java heap: the matrices in their formats, the norms, biases and positions as float32. */
    public long heapBytes() {
        return heapBytes;
    }

    /** Bytes of the matrices held off the Java heap ({@link WeightMatrix.Storage#NATIVE}). */
    public long offHeapBytes() {
        return offHeapBytes;
    }

    /**
     * Bytes of Java heap the weights of {@code config} need in {@code format} (null: the checkpoint's precision) held
     * in {@code storage}: none for the matrices off the heap.
     */
    public static long heapBytesNeeded(ModelConfig config, TensorStore store, WeightFormat format,
                                       WeightMatrix.Storage storage) {
        return storage.offHeap(formatHeld(store, format)) ? 0 : bytesNeeded(config, store, format);
    }

    /** {@code format}, or (null) the format the store's first matrix is held in ({@link #storedFormat}). */
    private static WeightFormat formatHeld(TensorStore store, WeightFormat format) {
        if (format != null) {
            return format;
        }
        String any = store.names().stream().filter(n -> store.shape(n).length == 2).findFirst()
                .orElse(store.names().iterator().next());
        return storedFormat(store.dtype(any));
    }

    /** Bytes of every linear weight and the output head as held. */
    long linearBytes() {
        long total = head.matrix().byteSize();
        for (Layer l : layers) {
            total += l.qkv().matrix().byteSize() + l.out().matrix().byteSize() + l.up().matrix().byteSize()
                    + l.down().matrix().byteSize();
        }
        return total;
    }

    /** The formats the matrices are held in, e.g. {@code BF16} or {@code Q4_0+F16}. */
    String formats() {
        Set<WeightFormat> used = EnumSet.noneOf(WeightFormat.class);
        used.addAll(head.matrix().formats());
        for (Layer l : layers) {
            for (LinearWeight w : List.of(l.qkv(), l.out(), l.up(), l.down())) {
                used.addAll(w.matrix().formats());
            }
        }
        return used.stream().map(Enum::name).collect(Collectors.joining("+"));
    }
}
