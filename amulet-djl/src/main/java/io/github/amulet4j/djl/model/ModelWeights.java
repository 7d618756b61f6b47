package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.amulet4j.djl.checkpoint.ModelConfig;
import io.github.amulet4j.djl.checkpoint.TensorStore;
import io.github.amulet4j.djl.weights.WeightFormat;
import io.github.amulet4j.djl.weights.WeightMatrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The weights of one model, in the layout the forward pass multiplies fastest: every linear weight as
 * {@code [out, in]} (GPT-2's Conv1D {@code [in, out]} is transposed on load), q/k/v fused into one matrix and
 * gate/up fused into one, so a decode step makes few large products.
 *
 * <p>Each weight is held once: on the engine, or (for the Java kernels) as a {@link WeightMatrix} in the format of
 * {@link RuntimeOptions#weights()} on the Java heap, with the embedding table too (a tied table serves both the
 * lookups and the output head). Norms, biases and GPT-2's positions stay on the engine.
 */
final class ModelWeights {

    private static final Logger LOG = LoggerFactory.getLogger(ModelWeights.class);

    /** Weights of one decoder block; biases and q/k norms may be null. */
    record Layer(NDArray norm1, NDArray norm1Bias, LinearWeight qkv, LinearWeight out, NDArray qNorm, NDArray kNorm,
                 NDArray norm2, NDArray norm2Bias, LinearWeight up, LinearWeight down) {
    }

    /** The embedding table on the engine; null when it is held for the Java kernels ({@link #embeddingRow}). */
    final NDArray embed;
    final NDArray positions;
    final List<Layer> layers;
    final NDArray finalNorm;
    final NDArray finalNormBias;
    /** The output head {@code [vocab, hidden]} (the embeddings' memory when they are tied). */
    final LinearWeight head;

    private final ModelConfig config;
    private final TensorStore store;
    private final String checkpoint;
    private final NDManager manager;
    private final DataType type;
    private final String gpt2Prefix;
    private final Map<String, long[]> expected;
    private final int blocks;
    private final boolean onHeap;
    private final RuntimeOptions.Weights format;
    /** The embedding table for lookups when it is held for the Java kernels (the head's matrix when tied). */
    private final WeightMatrix embedTable;
    /** Bytes of the arrays loaded onto the engine (row-block views not counted: they share memory). */
    private long engineBytes;
    /** Bytes of the weights held for the Java kernels. */
    private long heapBytes;
    /** Matrices whose rows are not whole 32-weight blocks, held as F16 instead of the block format. */
    private int fallbacks;

    /**
     * A row-major float32 matrix of the checkpoint (stored as {@code dtype}), not yet read: the Java kernels' formats
     * are converted from it a few rows at a time ({@link WeightMatrix#of(WeightFormat, int, int,
     * WeightMatrix.RowReader)}), so loading never holds a float32 copy of a whole matrix beside the weights.
     */
    private record Host(WeightMatrix.RowReader reader, int rows, int cols, String dtype) {
        /** Every value at once (for the engine, which takes a whole array). */
        float[] values() {
            float[] v = new float[Math.multiplyExact(rows, cols)];
            reader.read(0, rows, v);
            return v;
        }

        static Host of(float[] values, int rows, int cols, String dtype) {
            return new Host((first, count, dst) -> System.arraycopy(values, first * cols, dst, 0, count * cols),
                    rows, cols, dtype);
        }
    }

    /**
     * @param blocks  row blocks per engine linear weight, for {@link RowSplitPool} (1: no split)
     * @param onHeap  hold the linear weights and the embedding table for the Java kernels, not on the engine
     * @param weights their format when {@code onHeap}
     */
    ModelWeights(ModelConfig config, TensorStore store, NDManager manager, DataType type, String checkpoint,
                 int blocks, boolean onHeap, RuntimeOptions.Weights weights) {
        this.config = config;
        this.store = store;
        this.manager = manager;
        this.type = type;
        this.checkpoint = checkpoint;
        this.blocks = blocks;
        this.onHeap = onHeap;
        this.format = weights;
        this.gpt2Prefix = config.isGpt2() ? detectGpt2Prefix(store) : "";
        this.expected = TensorLayout.expectedTensors(config, gpt2Prefix);
        List<Layer> ls = new ArrayList<>();
        String embedName;
        if (config.isGpt2()) {
            String p = gpt2Prefix;
            embedName = p + "wte.weight";
            positions = load(p + "wpe.weight");
            for (int i = 0; i < config.numLayers(); i++) {
                String l = p + "h." + i + ".";
                ls.add(new Layer(load(l + "ln_1.weight"), load(l + "ln_1.bias"),
                        linear(hostTransposed(l + "attn.c_attn.weight"), load(l + "attn.c_attn.bias")),
                        linear(hostTransposed(l + "attn.c_proj.weight"), load(l + "attn.c_proj.bias")), null, null,
                        load(l + "ln_2.weight"), load(l + "ln_2.bias"),
                        linear(hostTransposed(l + "mlp.c_fc.weight"), load(l + "mlp.c_fc.bias")),
                        linear(hostTransposed(l + "mlp.c_proj.weight"), load(l + "mlp.c_proj.bias"))));
            }
            finalNorm = load(p + "ln_f.weight");
            finalNormBias = load(p + "ln_f.bias");
        } else {
            embedName = "model.embed_tokens.weight";
            positions = null;
            for (int i = 0; i < config.numLayers(); i++) {
                String l = "model.layers." + i + ".";
                String a = l + "self_attn.";
                Host qkv = hostConcat(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight");
                NDArray qkvBias = config.attentionBias()
                        ? loadConcat(a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias") : null;
                NDArray oBias = TensorLayout.hasOutputProjectionBias(config) ? load(a + "o_proj.bias") : null;
                NDArray qn = config.qkNorm() ? load(a + "q_norm.weight") : null;
                NDArray kn = config.qkNorm() ? load(a + "k_norm.weight") : null;
                ls.add(new Layer(load(l + "input_layernorm.weight"), null, linear(qkv, qkvBias),
                        linear(host(a + "o_proj.weight"), oBias), qn, kn, load(l + "post_attention_layernorm.weight"),
                        null, linear(hostConcat(l + "mlp.gate_proj.weight", l + "mlp.up_proj.weight"), null),
                        linear(host(l + "mlp.down_proj.weight"), null)));
            }
            finalNorm = load("model.norm.weight");
            finalNormBias = null;
        }
        layers = List.copyOf(ls);
        if (config.tieWordEmbeddings()) {
            Host table = host(embedName);
            head = linear(table, null);
            // a tied table serves the lookups too: on the engine the head is the table itself
            embed = head.onHeap() ? null : head.weight();
            embedTable = head.matrix();
        } else if (onHeap) {
            embedTable = matrix(host(embedName));
            embed = null;
            head = linear(host("lm_head.weight"), null);
        } else {
            embedTable = null;
            embed = load(embedName);
            head = linear(host("lm_head.weight"), null);
        }
        if (fallbacks > 0) {
            LOG.info("{}: {} matrices have rows that are not whole {}-weight blocks and are held as F16 instead of {}",
                    checkpoint, fallbacks, WeightFormat.BLOCK, weights);
        }
    }

    private LinearWeight linear(Host h, NDArray bias) {
        if (onHeap) {
            return LinearWeight.forJava(matrix(h), bias);
        }
        return LinearWeight.onEngine(toEngine(h.values(), new Shape(h.rows(), h.cols())), bias, blocks);
    }

    /** {@code h} converted to the format for the Java kernels: the chosen one, or the checkpoint's for AUTO. */
    private WeightMatrix matrix(Host h) {
        WeightFormat f = format.format();
        if (f == null) {
            f = storedFormat(h.dtype());
        }
        if (!f.fits(h.cols())) {
            fallbacks++;
            f = WeightFormat.F16;
        }
        WeightMatrix m = WeightMatrix.of(f, h.rows(), h.cols(), h.reader());
        heapBytes += m.byteSize();
        return m;
    }

    /**
     * The format a tensor stored as {@code dtype} keeps under {@link RuntimeOptions.Weights#AUTO}: F32, BF16, F16, and
     * Q8_0/Q4_0 as a GGUF store names them (requantizing their dequantized values gives the same blocks back); GGUF's
     * other block types (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) as Q8_0, the nearest format with kernels that loses
     * next to nothing more; any other stored type as F32.
     */
    static WeightFormat storedFormat(String dtype) {
        for (WeightFormat f : WeightFormat.values()) {
            if (f.name().equalsIgnoreCase(dtype)) {
                return f;
            }
        }
        if (dtype != null && java.util.Set.of("Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K").contains(dtype)) {
            return WeightFormat.Q8_0;
        }
        return WeightFormat.F32;
    }

    /** The embedding row of token {@code id} into {@code out[offset...offset + hidden)}, from the Java-held table. */
    void embeddingRow(int id, float[] out, int offset) {
        embedTable.row(id, out, offset);
    }

    private static String detectGpt2Prefix(TensorStore store) {
        if (store.contains(TensorLayout.GPT2_PREFIX + "wte.weight")) {
            return TensorLayout.GPT2_PREFIX;
        }
        return "";
    }

    /** Reads a tensor, checked against its expected shape, as float32 values. */
    private float[] read(String name) {
        check(name);
        return store.readFloat32(name);
    }

    /** Checks that a tensor exists with its expected shape. */
    private void check(String name) {
        long[] want = expected.get(name);
        if (!store.contains(name)) {
            String hint = config.isGpt2() ? " (looked for GPT-2 names with prefix '" + gpt2Prefix + "')" : "";
            throw new IllegalArgumentException(checkpoint + ": missing tensor '" + name + "' of shape "
                    + Arrays.toString(want) + " required by " + config.architecture() + hint);
        }
        long[] got = store.shape(name);
        if (!Arrays.equals(want, got)) {
            throw new IllegalArgumentException(checkpoint + ": tensor '" + name + "' has shape " + Arrays.toString(got)
                    + ", expected " + Arrays.toString(want) + " for " + config.architecture());
        }
    }

    private NDArray load(String name) {
        return toEngine(read(name), new Shape(expected.get(name)));
    }

    private Host host(String name) {
        return hostConcat(name);
    }

    /** A Conv1D weight stored {@code [in, out]}, transposed to {@code [out, in]} in Java. */
    private Host hostTransposed(String name) {
        long[] s = expected.get(name);
        int rows = (int) s[0];
        int cols = (int) s[1];
        float[] v = read(name);
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[base + c];
            }
        }
        return Host.of(t, cols, rows, store.dtype(name));
    }

    /**
     * Matrices with the same number of columns stacked along the rows, read from the store only when their rows are
     * asked for.
     */
    private Host hostConcat(String... names) {
        int[] firstRows = new int[names.length + 1];
        for (int i = 0; i < names.length; i++) {
            check(names[i]);
            firstRows[i + 1] = firstRows[i] + (int) expected.get(names[i])[0];
        }
        int cols = (int) expected.get(names[0])[1];
        WeightMatrix.RowReader reader = (first, count, dst) -> {
            int end = first + count;
            for (int i = 0; i < names.length; i++) {
                int from = Math.max(first, firstRows[i]);
                int to = Math.min(end, firstRows[i + 1]);
                if (from < to) {
                    store.readRows(names[i], from - firstRows[i], to - from, dst, (from - first) * cols);
                }
            }
        };
        return new Host(reader, firstRows[names.length], cols, store.dtype(names[0]));
    }

    private float[] concatValues(String... names) {
        long total = 0;
        for (String n : names) {
            long numel = 1;
            for (long d : expected.get(n)) {
                numel *= d;
            }
            total += numel;
        }
        float[] all = new float[Math.toIntExact(total)];
        int at = 0;
        for (String n : names) {
            float[] v = read(n);
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }

    /** Vectors (biases) stacked into one. */
    private NDArray loadConcat(String... names) {
        float[] all = concatValues(names);
        return toEngine(all, new Shape(all.length));
    }

    private NDArray toEngine(float[] values, Shape shape) {
        engineBytes += (long) values.length * type.getNumOfBytes();
        NDArray f32 = manager.create(values, shape);
        if (type == DataType.FLOAT32) {
            return f32;
        }
        NDArray converted = f32.toType(type, false);
        f32.close();
        return converted;
    }

    /** Bytes the weights take on the engine. */
    long engineBytes() {
        return engineBytes;
    }

    /** Bytes of every linear weight and the output head as held (their format on the Java side, the engine's dtype there). */
    long linearBytes() {
        long total = bytes(head);
        for (Layer l : layers) {
            total += bytes(l.qkv()) + bytes(l.out()) + bytes(l.up()) + bytes(l.down());
        }
        return total;
    }

    private long bytes(LinearWeight w) {
        return w.onHeap() ? w.matrix().byteSize() : (long) w.rows() * w.in() * type.getNumOfBytes();
    }

    /** The formats the Java kernels' matrices are held in, e.g. {@code BF16} or {@code Q4_0+F16}; empty on the engine. */
    String formats() {
        java.util.Set<WeightFormat> used = java.util.EnumSet.noneOf(WeightFormat.class);
        if (head.onHeap()) {
            used.add(head.matrix().format());
            for (Layer l : layers) {
                for (LinearWeight w : List.of(l.qkv(), l.out(), l.up(), l.down())) {
                    used.add(w.matrix().format());
                }
            }
        }
        return used.stream().map(Enum::name).collect(java.util.stream.Collectors.joining("+"));
    }

    /** Bytes of the weights held for the Java kernels (0 when they are on the engine). */
    long heapBytes() {
        return heapBytes;
    }
}
