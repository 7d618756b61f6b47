package io.github.amulet4j.djl.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.CheckpointTensors;

import java.util.ArrayList;
import java.util.List;

/**
 * The weights of one model on the PyTorch engine, in the compute dtype, in the layout of {@link CheckpointTensors}
 * (linear weights {@code [out, in]}, q/k/v and gate/up fused), each linear weight cut into row blocks for the product
 * threads ({@link EngineLinear}).
 */
final class EngineWeights {

    /** Weights of one decoder block; biases, q/k norms and Gemma's post-attention/post-feedforward norms may be null. */
    record Layer(NDArray norm1, NDArray norm1Bias, EngineLinear qkv, EngineLinear out, NDArray qNorm, NDArray kNorm,
                 NDArray norm2, NDArray norm2Bias, EngineLinear up, EngineLinear down, NDArray postAttentionNorm,
                 NDArray postFeedforwardNorm) {
    }

    final NDArray embed;
    /** GPT-2's learned positions {@code [maxPositions, hidden]}; null for rotary models. */
    final NDArray positions;
    final List<Layer> layers;
    final NDArray finalNorm;
    final NDArray finalNormBias;
    /** The output head {@code [vocab, hidden]} (the embeddings' memory when they are tied). */
    final EngineLinear head;

    private final NDManager manager;
    private final DataType type;
    private final int blocks;
    /** Bytes of the arrays loaded onto the engine (row-block views not counted: they share memory). */
    private long engineBytes;

    /**
     * @param blocks row blocks per linear weight, for the product threads (1: no split)
     */
    EngineWeights(ModelConfig config, TensorStore store, NDManager manager, DataType type, String checkpoint,
                  int blocks) {
        this.manager = manager;
        this.type = type;
        this.blocks = blocks;
        CheckpointTensors tensors = new CheckpointTensors(config, store, checkpoint);
        float[] pos = tensors.positions();
        positions = pos == null ? null
                : toEngine(pos, new Shape(pos.length / config.hiddenSize(), config.hiddenSize()));
        List<Layer> ls = new ArrayList<>();
        for (int i = 0; i < tensors.layers(); i++) {
            CheckpointTensors.Layer l = tensors.layer(i);
            ls.add(new Layer(vector(l.norm1()), vector(l.norm1Bias()), linear(l.qkv(), l.qkvBias()),
                    linear(l.out(), l.outBias()), vector(l.qNorm()), vector(l.kNorm()), vector(l.norm2()),
                    vector(l.norm2Bias()), linear(l.up(), l.upBias()), linear(l.down(), l.downBias()),
                    vector(l.postAttentionNorm()), vector(l.postFeedforwardNorm())));
        }
        layers = List.copyOf(ls);
        finalNorm = vector(tensors.finalNorm());
        finalNormBias = vector(tensors.finalNormBias());
        if (config.tieWordEmbeddings()) {
            head = linear(tensors.embedding(), null);
            embed = head.weight(); // a tied table serves the lookups too
        } else {
            CheckpointTensors.Matrix table = tensors.embedding();
            embed = toEngine(table.values(), new Shape(table.rows(), table.cols()));
            head = linear(tensors.head(), null);
        }
    }

    private EngineLinear linear(CheckpointTensors.Matrix m, float[] bias) {
        return EngineLinear.of(toEngine(m.values(), new Shape(m.rows(), m.cols())), vector(bias), blocks);
    }

    private NDArray vector(float[] values) {
        return values == null ? null : toEngine(values, new Shape(values.length));
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

    /** Bytes of every linear weight and the output head, in the compute dtype. */
    long linearBytes() {
        long total = bytes(head);
        for (Layer l : layers) {
            total += bytes(l.qkv()) + bytes(l.out()) + bytes(l.up()) + bytes(l.down());
        }
        return total;
    }

    private long bytes(EngineLinear w) {
        return (long) w.rows() * w.in() * type.getNumOfBytes();
    }
}
