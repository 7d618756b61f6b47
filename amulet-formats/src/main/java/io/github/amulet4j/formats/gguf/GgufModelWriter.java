package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.GemmaLayout;
import io.github.amulet4j.formats.checkpoint.LongRope;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;
import io.github.amulet4j.formats.checkpoint.TensorLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a Hugging Face model (its {@link ModelConfig} and tensors) as a GGUF file the way llama.cpp's
 * {@code convert_hf_to_gguf.py} lays it out: {@code general.architecture} and the {@code <arch>.*} keys, GGUF
 * tensor names, the q/k rows of {@code llama} permuted, GPT-2's Conv1D weights transposed, Llama 3 rotary
 * scaling as {@code rope_freqs.weight}, Phi-3's longrope as {@code rope_factors_long/short.weight}; matrices in the
 * chosen type (vectors, and matrices whose rows are not a whole number of blocks, in F32); a sequence classifier's
 * head as {@link GgufClassifier} reads it. Tokenizer metadata is added by the caller through {@link #metadata()}.
 * For tests, random models and conversions of small models.
 */
public final class GgufModelWriter {

    private final ModelConfig config;
    private final TensorStore store;
    private final GgmlType weightType;
    private final GgufWriter writer = new GgufWriter();
    private Encoder encoder = GgufWriter::encode;
    private java.util.function.Function<String, GgmlType> types;
    private ClassifierConfig classifier;

    /** Encodes float32 values as a ggml type (to write types {@link GgufWriter#encode} does not quantize). */
    @FunctionalInterface
    public interface Encoder {
        /** The encoded blocks of {@code values}. */
        byte[] encode(GgmlType type, float[] values);
    }

    /**
     * @param weightType the type of the 2-D weights: F32, F16, BF16, Q8_0 or Q4_0
     */
    public GgufModelWriter(ModelConfig config, TensorStore store, GgmlType weightType) {
        this.config = Objects.requireNonNull(config, "config");
        this.store = Objects.requireNonNull(store, "store");
        this.weightType = Objects.requireNonNull(weightType, "weightType");
        String a = ggufArchitecture(config);
        writer.putString("general.architecture", a);
        writer.putString("general.name", "amulet-" + a);
        writer.putU32("general.file_type", 0);
        writer.putU32(a + ".context_length", config.maxPositions());
        writer.putU32(a + ".embedding_length", config.hiddenSize());
        writer.putU32(a + ".block_count", config.numLayers());
        writer.putU32(a + ".feed_forward_length", config.intermediateSize());
        writer.putU32(a + ".attention.head_count", config.numHeads());
        if (config.isGpt2()) {
            writer.putF32(a + ".attention.layer_norm_epsilon", (float) config.normEps());
        } else {
            writer.putU32(a + ".attention.head_count_kv", config.numKvHeads());
            writer.putF32(a + ".rope.freq_base", (float) config.ropeTheta());
            writer.putF32(a + ".attention.layer_norm_rms_epsilon", (float) config.normEps());
            writer.putU32(a + ".rope.dimension_count", config.rotaryDim());
            if (config.headDim() * config.numHeads() != config.hiddenSize() || config.isGemma()) {
                writer.putU32(a + ".attention.key_length", config.headDim());
                writer.putU32(a + ".attention.value_length", config.headDim());
            }
            if (config.slidingWindow() != null) {
                writer.putU32(a + ".attention.sliding_window", config.slidingWindow());
            }
        }
        if (config.isGemma()) {
            putGemma(a, config);
        }
        if (config.bosTokenId() != null) {
            writer.putU32("tokenizer.ggml.bos_token_id", config.bosTokenId());
        }
        List<String> eosKeys = List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                "tokenizer.ggml.eom_token_id");
        for (int i = 0; i < Math.min(eosKeys.size(), config.eosTokenIds().size()); i++) {
            writer.putU32(eosKeys.get(i), config.eosTokenIds().get(i));
        }
    }

    /**
     * Converts a Hugging Face model folder (config.json, safetensors, a byte-level BPE tokenizer.json and
     * tokenizer_config.json) to one GGUF file with its tokenizer and chat template.
     *
     * @param weightType the type of the 2-D weights: F32, F16, BF16, Q8_0 or Q4_0
     */
    public static void convertFolder(Path folder, Path out, GgmlType weightType) throws IOException {
        String arch = architecture(folder);
        if (ClassifierConfig.ARMO_RM.equals(arch)) {
            throw new IllegalArgumentException(folder + ": " + ClassifierConfig.ARMO_RM + " (ArmoRM) has no GGUF form:"
                    + " its regression layer, gating network and reward transform are not GGUF tensors");
        }
        ClassifierConfig classifier = ClassifierConfig.BODIES.containsKey(arch)
                ? ClassifierConfig.readFolder(folder) : null;
        ModelConfig config = classifier != null ? classifier.body()
                : io.github.amulet4j.formats.checkpoint.ModelConfigReader.readFolder(folder);
        try (TensorStore store = io.github.amulet4j.formats.checkpoint.Checkpoints.open(folder)) {
            GgufModelWriter w = new GgufModelWriter(config, store, weightType);
            if (classifier != null) {
                w.classifier(classifier);
            }
            GgufTokenizerExport.put(w.metadata(), folder, config.vocabSize());
            w.write(out);
        }
    }

    /** {@code architectures[0]} of a folder's {@code config.json}, or null when it names none. */
    private static String architecture(Path folder) throws IOException {
        Path file = folder.resolve("config.json");
        if (!java.nio.file.Files.isRegularFile(file)) {
            return null;
        }
        try {
            com.google.gson.JsonElement a = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(file))
                    .getAsJsonObject().get("architectures");
            return a != null && a.isJsonArray() && !a.getAsJsonArray().isEmpty()
                    && a.getAsJsonArray().get(0).isJsonPrimitive() ? a.getAsJsonArray().get(0).getAsString() : null;
        } catch (RuntimeException e) {
            return null; // the config reader names what is wrong
        }
    }

    /**
     * Writes a sequence classifier ({@code ...ForSequenceClassification}): the store's {@code score.weight} as
     * {@code cls.output.weight} (in F32 unless {@link #types} chooses), the label names and the rank pooling as {@link GgufClassifier} reads them, and no
     * language-model head; returns this writer.
     *
     * @throws IllegalArgumentException for ArmoRM (its gating network has no GGUF form) or a classifier of another body
     */
    public GgufModelWriter classifier(ClassifierConfig c) {
        Objects.requireNonNull(c, "classifier");
        if (c.gating() != null) {
            throw new IllegalArgumentException(ClassifierConfig.ARMO_RM + " (ArmoRM) has no GGUF form: its regression"
                    + " layer, gating network and reward transform are not GGUF tensors");
        }
        if (!c.body().architecture().equals(config.architecture())) {
            throw new IllegalArgumentException("classifier body " + c.body().architecture() + " is not this writer's "
                    + config.architecture());
        }
        String a = ggufArchitecture(config);
        writer.putU32(GgufClassifier.poolingKey(a), GgufClassifier.POOLING_RANK);
        writer.putStrings(GgufClassifier.labelsKey(a), c.labels());
        this.classifier = c;
        return this;
    }

    /**
     * Gemma's keys as llama.cpp reads them: the window, the soft-capping values, the sliding layers (one flag per
     * layer) and Gemma 3's local rotary base.
     *
     * @throws IllegalArgumentException for a {@code query_pre_attn_scalar} that llama.cpp would not derive from the
     *                                  shape (GGUF does not store it)
     */
    private void putGemma(String a, ModelConfig config) {
        GemmaConfig g = config.gemma();
        boolean g3 = "gemma3".equals(a);
        boolean big = config.numLayers() == (g3 ? 62 : 46);
        double derived = big ? (double) config.hiddenSize() / config.numHeads() : config.headDim();
        if (g.queryPreAttnScalar() != derived) {
            throw new IllegalArgumentException("query_pre_attn_scalar " + g.queryPreAttnScalar() + " cannot be written"
                    + " to GGUF: llama.cpp derives " + derived + " from the shape of a " + config.numLayers()
                    + "-layer " + a);
        }
        if (!g3 && (g.attnLogitSoftcapping() == null || g.finalLogitSoftcapping() == null
                || g.slidingWindow() == null)) {
            throw new IllegalArgumentException("a Gemma 2 without soft-capping or without a window cannot be written to"
                    + " GGUF: llama.cpp then applies its defaults (caps 50 and 30, window 4096)");
        }
        if (g3 && g.attnLogitSoftcapping() != null) {
            throw new IllegalArgumentException("a Gemma 3 with attention soft-capping cannot be written to GGUF:"
                    + " llama.cpp caps no attention score of gemma3");
        }
        if (g.slidingWindow() != null) {
            writer.putU32(a + ".attention.sliding_window", g.slidingWindow());
        }
        if (g.attnLogitSoftcapping() != null) {
            writer.putF32(a + ".attn_logit_softcapping", g.attnLogitSoftcapping().floatValue());
        }
        if (g.finalLogitSoftcapping() != null) {
            writer.putF32(a + ".final_logit_softcapping", g.finalLogitSoftcapping().floatValue());
        }
        boolean[] flags = new boolean[config.numLayers()];
        for (int i = 0; i < flags.length; i++) {
            flags[i] = g.sliding(i);
        }
        writer.put(a + ".attention.sliding_window_pattern", GgufValueType.ARRAY,
                new GgufArray(GgufValueType.BOOL, flags));
        if (g.localRopeTheta() != null) {
            writer.putF32(a + ".rope.freq_base_swa", g.localRopeTheta().floatValue());
        }
    }

    /** The GGUF architecture name of a configuration. */
    public static String ggufArchitecture(ModelConfig config) {
        for (Map.Entry<String, String> e : GgufModelConfig.ARCHITECTURES.entrySet()) {
            if (e.getValue().equals(config.architecture())) {
                return e.getKey();
            }
        }
        if ("MistralForCausalLM".equals(config.architecture())) {
            return "llama";
        }
        throw new IllegalArgumentException("no GGUF architecture for " + config.architecture());
    }

    /** Uses {@code encoder} for the 2-D weights; returns this writer. */
    public GgufModelWriter encoder(Encoder encoder) {
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        return this;
    }

    /**
     * Chooses each 2-D weight's type by its GGUF name ({@code blk.0.attn_v.weight}, {@code output.weight}; null: the
     * constructor's type), e.g. a Q4_K_M-style mix of Q4_K and Q6_K; returns this writer. A matrix whose rows are not
     * whole blocks of its type is written as F32.
     */
    public GgufModelWriter types(java.util.function.Function<String, GgmlType> perTensor) {
        this.types = Objects.requireNonNull(perTensor, "perTensor");
        return this;
    }

    /** The writer, for more metadata (tokenizer, chat template). */
    public GgufWriter metadata() {
        return writer;
    }

    /** Adds the tensors and writes the file. */
    public void write(Path file) throws IOException {
        boolean llama = "llama".equals(ggufArchitecture(config));
        String prefix = config.isGpt2() && store.contains(TensorLayout.GPT2_PREFIX + "wte.weight")
                ? TensorLayout.GPT2_PREFIX : config.isGemma() ? GemmaLayout.decoderPrefix(store) : "";
        Map<String, long[]> tensors = new java.util.LinkedHashMap<>(TensorLayout.expectedTensors(config, prefix));
        if (classifier != null) {
            tensors.remove("lm_head.weight");
            tensors.put(ClassifierConfig.HEAD, new long[] {classifier.numLabels(), config.hiddenSize()});
        }
        for (Map.Entry<String, long[]> e : tensors.entrySet()) {
            String hf = e.getKey();
            long[] shape = e.getValue();
            String gguf = GgufTensorNames.toGguf(hf, config);
            float[] v = store.readFloat32(hf);
            if (config.isGpt2() && GgufTensorNames.isGpt2Conv1d(gguf)) {
                v = GgufTensorStore.transpose(v, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
            }
            if (llama && GgufTensorNames.isPermutedQk(gguf)) {
                int heads = gguf.contains("attn_q.") ? config.numHeads() : config.numKvHeads();
                v = GgufTensorStore.permute(v, heads, (int) shape[0], shape.length == 1 ? 1 : (int) shape[1]);
            }
            if (config.isGemma() && GgufTensorNames.isGemmaNorm(gguf)) {
                // llama.cpp's converter stores Gemma's norms as 1 + w
                float[] shifted = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    shifted[i] = 1f + v[i];
                }
                v = shifted;
            }
            GgmlType chosen = types == null ? null : types.apply(gguf);
            // a classifier's head (a few rows) stays float32 unless chosen, as the engine holds a folder's head
            GgmlType type = chosen != null ? chosen : GgufClassifier.HEAD.equals(gguf) ? GgmlType.F32 : weightType;
            if (shape.length == 2 && shape[1] % type.blockSize() == 0) {
                writer.tensorBytes(gguf, type, shape, encoder.encode(type, v));
            } else {
                writer.tensor(gguf, GgmlType.F32, shape, v);
            }
        }
        ModelConfig.RopeScaling s = config.ropeScaling();
        if (s != null && "llama3".equals(s.type())) {
            float[] base = RotaryFrequencies.inverseFrequencies(withoutScaling(config));
            float[] scaled = RotaryFrequencies.inverseFrequencies(config);
            float[] divisors = new float[base.length];
            for (int i = 0; i < base.length; i++) {
                divisors[i] = base[i] / scaled[i];
            }
            writer.tensor("rope_freqs.weight", GgmlType.F32, new long[] {divisors.length}, divisors);
        } else if (s != null && s.isLongRope()) {
            // as convert_hf_to_gguf.py's Phi-3: the factor lists as tensors, the original length and attention factor
            String a = ggufArchitecture(config);
            writer.putU32(a + ".rope.scaling.original_context_length", s.originalMaxPositionEmbeddings());
            writer.putF32(a + ".rope.scaling.attn_factor", LongRope.of(config).attentionFactor());
            writer.tensor("rope_factors_long.weight", GgmlType.F32, new long[] {s.longFactor().size()},
                    floats(s.longFactor()));
            writer.tensor("rope_factors_short.weight", GgmlType.F32, new long[] {s.shortFactor().size()},
                    floats(s.shortFactor()));
        } else if (s != null && "linear".equals(s.type())) {
            String a = ggufArchitecture(config);
            writer.putString(a + ".rope.scaling.type", "linear");
            writer.putF32(a + ".rope.scaling.factor", (float) s.factor());
        }
        writer.write(file);
    }

    private static float[] floats(List<Double> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).floatValue();
        }
        return out;
    }

    private static ModelConfig withoutScaling(ModelConfig c) {
        return c.withRopeScaling(null);
    }
}
