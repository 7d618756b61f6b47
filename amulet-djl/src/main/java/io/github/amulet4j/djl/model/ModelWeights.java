package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.amulet4j.djl.checkpoint.ModelConfig;
import io.github.amulet4j.djl.checkpoint.TensorStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The weights of one model on the engine, in the layout the forward pass multiplies fastest: every
 * linear weight as {@code [out, in]} (GPT-2's Conv1D {@code [in, out]} is transposed on load), q/k/v
 * fused into one matrix and gate/up fused into one, so a decode step makes few large products.
 */
final class ModelWeights {

    /** Weights of one decoder block; biases and q/k norms may be null. */
    record Layer(NDArray norm1, NDArray norm1Bias, LinearWeight qkv, LinearWeight out, NDArray qNorm, NDArray kNorm,
                 NDArray norm2, NDArray norm2Bias, LinearWeight up, LinearWeight down) {
    }

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
    /** Bytes of the arrays loaded onto the engine (row-block views not counted: they share memory). */
    private long engineBytes;

    /**
     * @param blocks row blocks per linear weight, for {@link ProductWorkers} (1: no split)
     */
    ModelWeights(ModelConfig config, TensorStore store, NDManager manager, DataType type, String checkpoint,
                 int blocks) {
        this.config = config;
        this.store = store;
        this.manager = manager;
        this.type = type;
        this.checkpoint = checkpoint;
        this.blocks = blocks;
        this.gpt2Prefix = config.isGpt2() ? detectGpt2Prefix(store) : "";
        this.expected = TensorLayout.expectedTensors(config, gpt2Prefix);
        List<Layer> ls = new ArrayList<>();
        if (config.isGpt2()) {
            String p = gpt2Prefix;
            embed = load(p + "wte.weight");
            positions = load(p + "wpe.weight");
            for (int i = 0; i < config.numLayers(); i++) {
                String l = p + "h." + i + ".";
                ls.add(new Layer(load(l + "ln_1.weight"), load(l + "ln_1.bias"),
                        linear(loadTransposed(l + "attn.c_attn.weight"), load(l + "attn.c_attn.bias")),
                        linear(loadTransposed(l + "attn.c_proj.weight"), load(l + "attn.c_proj.bias")), null, null,
                        load(l + "ln_2.weight"), load(l + "ln_2.bias"),
                        linear(loadTransposed(l + "mlp.c_fc.weight"), load(l + "mlp.c_fc.bias")),
                        linear(loadTransposed(l + "mlp.c_proj.weight"), load(l + "mlp.c_proj.bias"))));
            }
            finalNorm = load(p + "ln_f.weight");
            finalNormBias = load(p + "ln_f.bias");
        } else {
            embed = load("model.embed_tokens.weight");
            positions = null;
            for (int i = 0; i < config.numLayers(); i++) {
                String l = "model.layers." + i + ".";
                String a = l + "self_attn.";
                NDArray qkv = loadConcat(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight");
                NDArray qkvBias = config.attentionBias()
                        ? loadConcat(a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias") : null;
                NDArray oBias = TensorLayout.hasOutputProjectionBias(config) ? load(a + "o_proj.bias") : null;
                NDArray qn = config.qkNorm() ? load(a + "q_norm.weight") : null;
                NDArray kn = config.qkNorm() ? load(a + "k_norm.weight") : null;
                ls.add(new Layer(load(l + "input_layernorm.weight"), null, linear(qkv, qkvBias),
                        linear(load(a + "o_proj.weight"), oBias), qn, kn, load(l + "post_attention_layernorm.weight"),
                        null, linear(loadConcat(l + "mlp.gate_proj.weight", l + "mlp.up_proj.weight"), null),
                        linear(load(l + "mlp.down_proj.weight"), null)));
            }
            finalNorm = load("model.norm.weight");
            finalNormBias = null;
        }
        layers = List.copyOf(ls);
        head = linear(config.tieWordEmbeddings() ? embed : load("lm_head.weight"), null);
    }

    private LinearWeight linear(NDArray weight, NDArray bias) {
        return LinearWeight.of(weight, bias, blocks);
    }

    private static String detectGpt2Prefix(TensorStore store) {
        if (store.contains(TensorLayout.GPT2_PREFIX + "wte.weight")) {
            return TensorLayout.GPT2_PREFIX;
        }
        return "";
    }

    /** Reads a tensor, checked against its expected shape, as float32 values. */
    private float[] read(String name) {
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
        return store.readFloat32(name);
    }

    private NDArray load(String name) {
        return toEngine(read(name), new Shape(expected.get(name)));
    }

    /** A Conv1D weight stored {@code [in, out]}, transposed to {@code [out, in]} in Java. */
    private NDArray loadTransposed(String name) {
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
        return toEngine(t, new Shape(cols, rows));
    }

    /** Several tensors with the same trailing shape stacked along the first axis. */
    private NDArray loadConcat(String... names) {
        long rows = 0;
        long[] first = expected.get(names[0]);
        for (String n : names) {
            rows += expected.get(n)[0];
        }
        int cols = first.length == 1 ? 1 : (int) first[1];
        float[] all = new float[Math.toIntExact(rows * cols)];
        int at = 0;
        for (String n : names) {
            float[] v = read(n);
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        Shape shape = first.length == 1 ? new Shape(rows) : new Shape(rows, cols);
        return toEngine(all, shape);
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
}
