package io.github.amulet4j.transformer;

import io.github.amulet4j.formats.checkpoint.GemmaLayout;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.weights.WeightMatrix;

import java.util.Arrays;
import java.util.Map;

/**
 * The tensors of a checkpoint in the layout the forward passes multiply fastest, read on demand from a
 * {@link TensorStore} and checked against the shapes the {@link ModelConfig} implies: every linear weight as
 * {@code [out, in]} (GPT-2's Conv1D {@code [in, out]} transposed), q/k/v fused into one matrix and gate/up into one,
 * their biases fused the same way (Phi-3 stores them fused already). Matrices are {@link Matrix} sources read a few rows at a time, so a backend
 * converts them into its own form without a float32 copy of a whole model; vectors (norms, biases) are float arrays.
 * Shared by the Java pass ({@link JavaWeights}) and amulet-djl's engine weights.
 */
public final class CheckpointTensors {

    /**
     * A row-major float32 matrix of the checkpoint (stored as {@code dtype}), not yet read; {@code raw}, where not null,
     * reads its rows as the bytes they are stored in ({@link TensorStore#readRawRows}: every part in {@code dtype}), so
     * that a backend keeping the stored format copies them instead of decoding and encoding them again (null, for
     * example, for a fused q/k/v of Q4_K and Q6_K parts: read as values). {@code parts}, where not null, are the
     * checkpoint tensors a fused matrix stacks (q, k, v; gate, up), top to bottom, each with its own dtype and raw
     * reader, so that a backend can hold each in its own format.
     */
    public record Matrix(WeightMatrix.RowReader reader, int rows, int cols, String dtype, WeightMatrix.RawReader raw,
                         java.util.List<Matrix> parts) {

        /** A matrix read as float32 only. */
        public Matrix(WeightMatrix.RowReader reader, int rows, int cols, String dtype) {
            this(reader, rows, cols, dtype, null, null);
        }

        /** A matrix of one tensor, or of parts all in {@code dtype}. */
        public Matrix(WeightMatrix.RowReader reader, int rows, int cols, String dtype, WeightMatrix.RawReader raw) {
            this(reader, rows, cols, dtype, raw, null);
        }

        /** Whether the parts differ in dtype (each is then best held in its own format). */
        public boolean mixed() {
            return parts != null && parts.stream().anyMatch(p -> !p.dtype().equals(dtype));
        }

        /** Every value at once (for an engine, which takes a whole array). */
        public float[] values() {
            float[] v = new float[Math.multiplyExact(rows, cols)];
            reader.read(0, rows, v);
            return v;
        }

        static Matrix of(float[] values, int rows, int cols, String dtype) {
            return new Matrix((first, count, dst) -> System.arraycopy(values, first * cols, dst, 0, count * cols),
                    rows, cols, dtype);
        }
    }

    /**
     * The tensors of one decoder block; biases, q/k norms and Gemma's post-attention and post-feedforward norms (on the
     * attention's and the MLP's outputs before each residual add) are null where the model has none.
     */
    public record Layer(float[] norm1, float[] norm1Bias, Matrix qkv, float[] qkvBias, Matrix out, float[] outBias,
                        float[] qNorm, float[] kNorm, float[] norm2, float[] norm2Bias, Matrix up, float[] upBias,
                        Matrix down, float[] downBias, float[] postAttentionNorm, float[] postFeedforwardNorm) {

        /** A block with no post-attention or post-feedforward norm (every architecture but Gemma). */
        public Layer(float[] norm1, float[] norm1Bias, Matrix qkv, float[] qkvBias, Matrix out, float[] outBias,
                     float[] qNorm, float[] kNorm, float[] norm2, float[] norm2Bias, Matrix up, float[] upBias,
                     Matrix down, float[] downBias) {
            this(norm1, norm1Bias, qkv, qkvBias, out, outBias, qNorm, kNorm, norm2, norm2Bias, up, upBias, down,
                    downBias, null, null);
        }
    }

    private final ModelConfig config;
    private final TensorStore store;
    private final String checkpoint;
    private final String gpt2Prefix;
    /** Gemma's decoder prefix ({@link GemmaLayout#decoderPrefix}); null for other architectures. */
    private final String gemmaPrefix;
    private final Map<String, long[]> expected;

    /** A view of {@code store} (which must stay open while it is read); {@code checkpoint} names it in messages. */
    public CheckpointTensors(ModelConfig config, TensorStore store, String checkpoint) {
        this.config = config;
        this.store = store;
        this.checkpoint = checkpoint;
        this.gpt2Prefix = config.isGpt2() && store.contains(TensorLayout.GPT2_PREFIX + "wte.weight")
                ? TensorLayout.GPT2_PREFIX : "";
        this.gemmaPrefix = config.isGemma() ? GemmaLayout.decoderPrefix(store) : null;
        this.expected = TensorLayout.expectedTensors(config, config.isGemma() ? gemmaPrefix : gpt2Prefix);
    }

    /** Decoder blocks. */
    public int layers() {
        return config.numLayers();
    }

    /** Block {@code i}, read now (its matrices when their rows are asked for). */
    public Layer layer(int i) {
        if (config.isGemma()) {
            return gemmaLayer(i);
        }
        if (config.isGpt2()) {
            String l = gpt2Prefix + "h." + i + ".";
            return new Layer(read(l + "ln_1.weight"), read(l + "ln_1.bias"),
                    transposed(l + "attn.c_attn.weight"), read(l + "attn.c_attn.bias"),
                    transposed(l + "attn.c_proj.weight"), read(l + "attn.c_proj.bias"), null, null,
                    read(l + "ln_2.weight"), read(l + "ln_2.bias"),
                    transposed(l + "mlp.c_fc.weight"), read(l + "mlp.c_fc.bias"),
                    transposed(l + "mlp.c_proj.weight"), read(l + "mlp.c_proj.bias"));
        }
        String l = "model.layers." + i + ".";
        String a = l + "self_attn.";
        if (config.isPhi3()) {
            // already fused in the checkpoint, in this layout: q, k, v rows and gate, up rows
            return new Layer(read(l + "input_layernorm.weight"), null, concat(a + "qkv_proj.weight"), null,
                    concat(a + "o_proj.weight"), null, null, null, read(l + "post_attention_layernorm.weight"), null,
                    concat(l + "mlp.gate_up_proj.weight"), null, concat(l + "mlp.down_proj.weight"), null);
        }
        Matrix qkv = concat(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight");
        float[] qkvBias = config.attentionBias() ? concatValues(a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias")
                : null;
        float[] oBias = TensorLayout.hasOutputProjectionBias(config) ? read(a + "o_proj.bias") : null;
        float[] qn = config.qkNorm() ? read(a + "q_norm.weight") : null;
        float[] kn = config.qkNorm() ? read(a + "k_norm.weight") : null;
        return new Layer(read(l + "input_layernorm.weight"), null, qkv, qkvBias, concat(a + "o_proj.weight"), oBias,
                qn, kn, read(l + "post_attention_layernorm.weight"), null,
                concat(l + "mlp.gate_proj.weight", l + "mlp.up_proj.weight"), null,
                concat(l + "mlp.down_proj.weight"), null);
    }

    /** The embedding table {@code [vocab, hidden]} (also the output head when the embeddings are tied). */
    public Matrix embedding() {
        if (config.isGemma()) {
            return concat(gemmaPrefix + "embed_tokens.weight");
        }
        return concat(config.isGpt2() ? gpt2Prefix + "wte.weight" : "model.embed_tokens.weight");
    }

    /** The output head {@code [vocab, hidden]}; null when the embeddings are tied. */
    public Matrix head() {
        if (config.isGemma() && !config.tieWordEmbeddings()) {
            return concat(GemmaLayout.headName(gemmaPrefix));
        }
        return config.tieWordEmbeddings() ? null : concat("lm_head.weight");
    }

    /**
     * A classification head {@code name} of {@code rows} rows over the final hidden state ({@code [rows, hidden]}, e.g.
     * a reward model's {@code score.weight}), checked like every other tensor.
     */
    public Matrix classifierHead(String name, int rows) {
        long[] want = {rows, config.hiddenSize()};
        if (!store.contains(name)) {
            throw new IllegalArgumentException(checkpoint + ": missing tensor '" + name + "' of shape "
                    + Arrays.toString(want) + ", the classification head");
        }
        long[] got = store.shape(name);
        if (!Arrays.equals(want, got)) {
            throw new IllegalArgumentException(checkpoint + ": tensor '" + name + "' has shape " + Arrays.toString(got)
                    + ", expected " + Arrays.toString(want) + " (labels x hidden size)");
        }
        int cols = config.hiddenSize();
        return new Matrix((first, count, dst) -> store.readRows(name, first, count, dst, 0), rows, cols,
                store.dtype(name));
    }

    /**
     * The identity {@code [hidden, hidden]} as a head: the pass's outputs are then the final-norm hidden states, for
     * heads that are not linear (ArmoRM's gating network reads the hidden state at a position of its own).
     */
    public Matrix hiddenStateHead() {
        int h = config.hiddenSize();
        return new Matrix((first, count, dst) -> {
            java.util.Arrays.fill(dst, 0, count * h, 0f);
            for (int r = 0; r < count; r++) {
                dst[r * h + first + r] = 1f;
            }
        }, h, h, "F32");
    }

    /** GPT-2's learned positions {@code [maxPositions, hidden]}, row-major; null for rotary models. */
    public float[] positions() {
        return config.isGpt2() ? read(gpt2Prefix + "wpe.weight") : null;
    }

    /** The final norm's weight (for Gemma, {@code 1 + w}: see {@link #gemmaNorm}). */
    public float[] finalNorm() {
        if (config.isGemma()) {
            return gemmaNorm(gemmaPrefix + "norm.weight");
        }
        return read(config.isGpt2() ? gpt2Prefix + "ln_f.weight" : "model.norm.weight");
    }

    /** The final norm's bias; null for RMSNorm models. */
    public float[] finalNormBias() {
        return config.isGpt2() ? read(gpt2Prefix + "ln_f.bias") : null;
    }

    /**
     * A Gemma block: Llama's tensors, with {@code pre_feedforward_layernorm} as the norm before the MLP, the
     * post-attention and post-feedforward norms on the outputs, and every norm weight as {@link #gemmaNorm}.
     */
    private Layer gemmaLayer(int i) {
        String l = gemmaPrefix + "layers." + i + ".";
        String a = l + "self_attn.";
        boolean bias = config.attentionBias();
        return new Layer(gemmaNorm(l + "input_layernorm.weight"), null,
                concat(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight"),
                bias ? concatValues(a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias") : null,
                concat(a + "o_proj.weight"), bias ? read(a + "o_proj.bias") : null,
                config.qkNorm() ? gemmaNorm(a + "q_norm.weight") : null,
                config.qkNorm() ? gemmaNorm(a + "k_norm.weight") : null,
                gemmaNorm(l + "pre_feedforward_layernorm.weight"), null,
                concat(l + "mlp.gate_proj.weight", l + "mlp.up_proj.weight"), null,
                concat(l + "mlp.down_proj.weight"), null,
                gemmaNorm(l + "post_attention_layernorm.weight"), gemmaNorm(l + "post_feedforward_layernorm.weight"));
    }

    /**
     * A Gemma RMSNorm weight as the multiplier the norm applies, {@code 1 + w} in float32 (transformers'
     * {@code Gemma2RMSNorm}/{@code Gemma3RMSNorm} compute {@code x * (1 + w.float())}), so that the passes run it as
     * every other RMSNorm.
     */
    private float[] gemmaNorm(String name) {
        float[] w = read(name); // possibly the store's own array: not changed
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = 1f + w[i];
        }
        return out;
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

    /** A Conv1D weight stored {@code [in, out]}, transposed to {@code [out, in]} in Java. */
    private Matrix transposed(String name) {
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
        return Matrix.of(t, cols, rows, store.dtype(name));
    }

    /**
     * Matrices with the same number of columns stacked along the rows, read from the store only when their rows are
     * asked for.
     */
    private Matrix concat(String... names) {
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
        // the stored bytes, where every part has them in one dtype: rows of the parts one after the other
        String dtype = store.dtype(names[0]);
        boolean raw = true;
        for (String n : names) {
            raw &= store.hasRawRows(n) && store.dtype(n).equals(dtype);
        }
        WeightMatrix.RawReader rawReader = !raw ? null : (first, count, dst) -> {
            int end = first + count;
            for (int i = 0; i < names.length; i++) {
                int from = Math.max(first, firstRows[i]);
                int to = Math.min(end, firstRows[i + 1]);
                if (from < to) {
                    store.readRawRows(names[i], from - firstRows[i], to - from, dst);
                }
            }
        };
        if (names.length == 1) {
            return new Matrix(reader, firstRows[1], cols, dtype, rawReader);
        }
        java.util.List<Matrix> parts = new java.util.ArrayList<>();
        for (String n : names) {
            parts.add(concat(n));
        }
        return new Matrix(reader, firstRows[names.length], cols, dtype, rawReader, java.util.List.copyOf(parts));
    }

    /** Vectors (biases) stacked into one. */
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
}
