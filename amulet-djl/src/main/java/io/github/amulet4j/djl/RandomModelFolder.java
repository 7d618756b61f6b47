package io.github.amulet4j.djl;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.SafetensorsWriter;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;
import io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Writes a model folder in the Hugging Face layout with random weights: {@code config.json},
 * {@code generation_config.json}, {@code model.safetensors}, a real byte-level BPE {@code tokenizer.json}
 * and {@code tokenizer_config.json} with a ChatML chat template (GPT-2 gets none, as the real one). It loads
 * and generates like a downloaded model (the text is noise): for trying the library without a network, for
 * tests and for benchmarks of full-size shapes.
 *
 * <p>The model's vocabulary is the tokenizer's rounded up to a multiple of 64, so the padded embedding rows
 * that real checkpoints have are there too.
 *
 * <p>Tiny shapes are written with an untied output head ({@code lm_head.weight}, N(0, {@value #TINY_HEAD_STD}),
 * {@code tie_word_embeddings: false} in {@code config.json}) and the other weights from N(0, {@value #TINY_STD}).
 * With tied embeddings and small weights the residual stream stays close to the last token's embedding, so a
 * random model would repeat the last prompt token forever; an own head and a larger spread give a varied token
 * soup in which the prompt (and so the preference) visibly changes what each method writes. Full-size shapes
 * keep their real layout (tied where the real model is) and N(0, 0.02), as the benchmarks measure them.
 */
public final class RandomModelFolder {

    /** Standard deviation of the tiny shapes' weights (norm weights: 1 + N(0, this)). */
    public static final float TINY_STD = 0.1f;

    /** Standard deviation of the tiny shapes' own output head (logits spread over a few units, as a real model's). */
    public static final float TINY_HEAD_STD = 0.25f;

    private static final String LM_HEAD = "lm_head.weight";

    /** The shapes that can be written. */
    public enum Shape {
        /** A tiny Llama (llama3 rope scaling, BOS added by the tokenizer). */
        TINY_LLAMA("tiny-llama", ModelShapes::tinyLlama, 1000),
        /** A tiny Qwen2 (q/k/v biases; own output head, see the class comment). */
        TINY_QWEN2("tiny-qwen2", ModelShapes::tinyQwen2, 1000),
        /** A tiny Qwen3 (q/k norms; own output head). */
        TINY_QWEN3("tiny-qwen3", ModelShapes::tinyQwen3, 1000),
        /** A tiny Mistral (grouped-query attention, untied head). */
        TINY_MISTRAL("tiny-mistral", ModelShapes::tinyMistral, 1000),
        /** A tiny GPT-2 (no chat template: prompts are plain text; own output head). */
        TINY_GPT2("tiny-gpt2", ModelShapes::tinyGpt2, 1000),
        /**
         * A tiny Gemma 2 (four norms a layer, soft-capping, alternating sliding layers; query_pre_attn_scalar the head
         * size, as llama.cpp assumes for a GGUF file).
         */
        TINY_GEMMA2("tiny-gemma2", () -> headSizeScalar(ModelShapes.tinyGemma2()), 1000),
        /** A tiny Gemma 3 (q/k norms, local and global rotary bases; query_pre_attn_scalar the head size). */
        TINY_GEMMA3("tiny-gemma3", () -> headSizeScalar(ModelShapes.tinyGemma3()), 1000),
        /** A tiny Phi-3 (fused projections, longrope from 32 positions, partial rotary factor; own output head). */
        TINY_PHI3("tiny-phi3", ModelShapes::tinyPhi3, 1000),
        /** Qwen2.5-0.5B's shape (about 0.5 billion parameters). */
        QWEN25_05B("qwen2.5-0.5b", ModelShapes::qwen25_05b, 151_665),
        /** Llama-3.2-1B's shape (about 1.2 billion parameters). */
        LLAMA32_1B("llama3.2-1b", ModelShapes::llama32_1b, 128_000),
        /** Llama-3.1-8B's shape (about 8 billion parameters, 16 GB in BF16). */
        LLAMA31_8B("llama3.1-8b", ModelShapes::llama31_8b, 128_000),
        /** Gemma-2-2B's shape (about 2.6 billion parameters). */
        GEMMA2_2B("gemma-2-2b", ModelShapes::gemma2_2b, 256_000),
        /** Gemma-3-1B's shape (about 1 billion parameters, 262,144-token vocabulary). */
        GEMMA3_1B("gemma-3-1b", ModelShapes::gemma3_1b, 262_144),
        /** Phi-3.5-mini's shape (3.8 billion parameters, illustrative longrope factors). */
        PHI35_MINI("phi-3.5-mini", ModelShapes::phi35Mini, 32_000),
        /** Phi-4-mini's shape (3.8 billion parameters, partial rotary factor 0.75, tied). */
        PHI4_MINI("phi-4-mini", ModelShapes::phi4Mini, 128_000);

        private final String id;
        private final Supplier<ModelConfig> shape;
        private final int tokenizerVocab;

        Shape(String id, Supplier<ModelConfig> shape, int tokenizerVocab) {
            this.id = id;
            this.shape = shape;
            this.tokenizerVocab = tokenizerVocab;
        }

        /** The name used on the command line ({@code tiny-qwen2}, {@code qwen2.5-0.5b}, ...). */
        public String id() {
            return id;
        }

        /** Whether this is one of the tiny test shapes. */
        public boolean isTiny() {
            return id.startsWith("tiny-");
        }

        /** The shape called {@code name}. @throws IllegalArgumentException listing the names */
        public static Shape parse(String name) {
            for (Shape s : values()) {
                if (s.id.equalsIgnoreCase(name == null ? "" : name.trim())) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown shape '" + name + "'; shapes: " + names());
        }

        /** All names, comma-separated. */
        public static String names() {
            return Arrays.stream(values()).map(Shape::id).collect(Collectors.joining(", "));
        }
    }

    private RandomModelFolder() {
    }

    /** {@code c} with Gemma's query_pre_attn_scalar set to the head size. */
    private static ModelConfig headSizeScalar(ModelConfig c) {
        GemmaConfig g = c.gemma();
        return c.withGemma(new GemmaConfig(c.headDim(), g.attnLogitSoftcapping(), g.finalLogitSoftcapping(),
                g.slidingWindow(), g.slidingLayers(), g.localRopeTheta()));
    }

    /**
     * Writes a random model of {@code shape} into {@code dir} (created if needed; files of the same names are
     * replaced) and returns its configuration as {@code config.json} states it.
     *
     * @param seed  seed of the weights (same seed, same weights)
     * @param dtype stored dtype of the weights (F32, F16 or BF16)
     */
    public static ModelConfig write(Path dir, Shape shape, long seed, SafetensorsDtype dtype) throws IOException {
        return write(dir, shape, seed, dtype, false);
    }

    /**
     * Writes a random model of {@code shape} as {@link #write(Path, Shape, long, SafetensorsDtype)} does, or, with
     * {@code llamaTwin}, its {@linkplain #llamaTwin Llama twin}: a Llama of the same sizes, the baseline that an
     * architecture's speed is compared with.
     */
    public static ModelConfig write(Path dir, Shape shape, long seed, SafetensorsDtype dtype, boolean llamaTwin)
            throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(dtype, "dtype");
        if (dtype != SafetensorsDtype.F32 && dtype != SafetensorsDtype.F16 && dtype != SafetensorsDtype.BF16) {
            throw new IllegalArgumentException("weights are written as F32, F16 or BF16, not " + dtype);
        }
        ModelConfig base = llamaTwin ? llamaTwin(shape.shape.get()) : shape.shape.get();
        boolean gpt2 = base.isGpt2();
        boolean llama = base.architecture().equals("LlamaForCausalLM");
        TinyTokenizerWriter.Builder tb = TinyTokenizerWriter.builder().vocabSize(shape.tokenizerVocab)
                .fillersRoundTrip(true);
        if (gpt2) {
            tb.chatTemplate(null).eosToken("<|endoftext|>").bosToken("<|endoftext|>").padToken(null);
        } else if (llama) {
            tb.bosToken("<s>").addBosToken(true);
        }
        TinyTokenizerWriter tokenizer = tb.build();
        int eos = tokenizer.specialTokenId(gpt2 ? "<|endoftext|>" : "<|im_end|>");
        Integer bos = gpt2 ? Integer.valueOf(tokenizer.specialTokenId("<|endoftext|>"))
                : llama ? Integer.valueOf(tokenizer.specialTokenId("<s>")) : null;
        List<Integer> eosIds = gpt2 ? List.of(eos) : List.of(eos, tokenizer.specialTokenId("<|endoftext|>"));
        int vocab = (tokenizer.vocabSize() + 63) / 64 * 64;
        if (!shape.isTiny()) {
            vocab = Math.max(vocab, base.vocabSize());
        }
        int maxPositions = shape.isTiny() ? Math.max(base.maxPositions(), 512) : base.maxPositions();
        // Tiny shapes get their own output head (see the class comment): config.json says so, the weights follow.
        boolean tied = base.tieWordEmbeddings() && !shape.isTiny();
        ModelConfig config = new ModelConfig(base.architecture(), base.hiddenSize(), base.numLayers(), base.numHeads(),
                base.numKvHeads(), base.headDim(), base.intermediateSize(), vocab, maxPositions, base.normEps(),
                base.ropeTheta(), base.ropeScaling(), tied, base.attentionBias(), base.qkNorm(),
                base.hiddenAct(), bos, eosIds, dtypeName(dtype), base.slidingWindow(), base.gemma(),
                base.partialRotaryFactor());

        Files.createDirectories(dir);
        tokenizer.writeTo(dir);
        writeJson(dir.resolve("config.json"), configJson(config));
        JsonObject generation = new JsonObject();
        if (bos != null) {
            generation.addProperty("bos_token_id", bos);
        }
        generation.add("eos_token_id", ints(eosIds));
        generation.addProperty("do_sample", false);
        writeJson(dir.resolve("generation_config.json"), generation);
        // The weights follow config.json as a reader sees it (the file is what a loader trusts).
        ModelConfig written = ModelConfigReader.readFolder(dir);
        if (shape.isTiny()) {
            InMemoryTensorStore weights = RandomCheckpoint.create(written, seed, TensorLayout.GPT2_PREFIX, TINY_STD);
            long[] head = weights.shape(LM_HEAD);
            weights.put(LM_HEAD, head, RandomCheckpoint.normal(Math.toIntExact(head[0] * head[1]), 0f, TINY_HEAD_STD,
                    seed ^ 0x6C6D5F68656164L));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, dtype);
        } else {
            // Full-size shapes are streamed: the values never sit in the heap (1.2 billion floats for llama3.2-1b).
            SafetensorsWriter.write(dir.resolve("model.safetensors"), RandomCheckpoint.entries(written, seed), dtype);
        }
        return written;
    }

    /**
     * A plain Llama ({@code LlamaForCausalLM}) of {@code c}'s sizes: the same hidden size, layers, heads, KV heads,
     * head size, intermediate size, vocabulary, context length, norm epsilon, rotary base and tying, with none of the
     * architecture's own features (no soft-capping, extra norms, q/k norms, sliding window, rope scaling, partial
     * rotary factor or fused projections; SiLU instead of GELU). Between an architecture and its twin only those
     * features differ, so the decode speeds of the two say what the features cost.
     */
    public static ModelConfig llamaTwin(ModelConfig c) {
        if (c.isGpt2()) {
            throw new IllegalArgumentException("GPT-2 has no Llama twin (biases and LayerNorm throughout)");
        }
        return new ModelConfig("LlamaForCausalLM", c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(), c.ropeTheta(), null,
                c.tieWordEmbeddings(), false, false, "silu", c.bosTokenId(), c.eosTokenIds(), c.torchDtype());
    }

    private static String dtypeName(SafetensorsDtype dtype) {
        return switch (dtype) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        };
    }

    /** {@code config.json} as transformers writes it for the architecture. */
    static JsonObject configJson(ModelConfig c) {
        JsonObject o = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add(c.architecture());
        o.add("architectures", arch);
        if (c.isGpt2()) {
            o.addProperty("model_type", "gpt2");
            o.addProperty("n_embd", c.hiddenSize());
            o.addProperty("n_layer", c.numLayers());
            o.addProperty("n_head", c.numHeads());
            o.addProperty("n_inner", c.intermediateSize());
            o.addProperty("n_positions", c.maxPositions());
            o.addProperty("n_ctx", c.maxPositions());
            o.addProperty("layer_norm_epsilon", c.normEps());
            o.addProperty("activation_function", c.hiddenAct());
        } else {
            o.addProperty("model_type", switch (c.architecture()) {
                case "Gemma2ForCausalLM" -> "gemma2";
                case "Gemma3ForCausalLM" -> "gemma3_text";
                case "MistralForCausalLM" -> "mistral";
                case "Qwen2ForCausalLM" -> "qwen2";
                case "Qwen3ForCausalLM" -> "qwen3";
                case "Phi3ForCausalLM" -> "phi3";
                default -> "llama";
            });
            o.addProperty("hidden_size", c.hiddenSize());
            o.addProperty("num_hidden_layers", c.numLayers());
            o.addProperty("num_attention_heads", c.numHeads());
            o.addProperty("num_key_value_heads", c.numKvHeads());
            o.addProperty("head_dim", c.headDim());
            o.addProperty("intermediate_size", c.intermediateSize());
            o.addProperty("max_position_embeddings", c.maxPositions());
            o.addProperty("rms_norm_eps", c.normEps());
            o.addProperty("rope_theta", c.ropeTheta());
            if (c.isPhi3()) {
                phi3Fields(c, o);
            } else if (c.ropeScaling() != null) {
                JsonObject rs = new JsonObject();
                rs.addProperty("rope_type", c.ropeScaling().type());
                rs.addProperty("factor", c.ropeScaling().factor());
                rs.addProperty("low_freq_factor", c.ropeScaling().lowFreqFactor());
                rs.addProperty("high_freq_factor", c.ropeScaling().highFreqFactor());
                rs.addProperty("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
                o.add("rope_scaling", rs);
            }
            if (!c.architecture().equals("Qwen2ForCausalLM")) {
                o.addProperty("attention_bias", c.attentionBias());
            }
            o.addProperty("hidden_act", c.hiddenAct());
            if (c.isGemma()) {
                gemmaJson(c, o);
            }
        }
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        if (c.bosTokenId() != null) {
            o.addProperty("bos_token_id", c.bosTokenId());
        }
        o.add("eos_token_id", c.eosTokenIds().size() == 1
                ? new com.google.gson.JsonPrimitive(c.eosTokenIds().get(0)) : ints(c.eosTokenIds()));
        if (c.torchDtype() != null) {
            o.addProperty("torch_dtype", c.torchDtype());
        }
        if (c.slidingWindow() != null) {
            o.addProperty("sliding_window", c.slidingWindow());
        }
        return o;
    }

    /** Gemma2Config's / Gemma3TextConfig's own fields. */
    private static void gemmaJson(ModelConfig c, JsonObject o) {
        GemmaConfig g = c.gemma();
        o.addProperty("hidden_activation", c.hiddenAct());
        o.addProperty("query_pre_attn_scalar", g.queryPreAttnScalar());
        o.add("attn_logit_softcapping", g.attnLogitSoftcapping() == null ? com.google.gson.JsonNull.INSTANCE
                : new com.google.gson.JsonPrimitive(g.attnLogitSoftcapping()));
        o.add("final_logit_softcapping", g.finalLogitSoftcapping() == null ? com.google.gson.JsonNull.INSTANCE
                : new com.google.gson.JsonPrimitive(g.finalLogitSoftcapping()));
        o.add("sliding_window", g.slidingWindow() == null ? com.google.gson.JsonNull.INSTANCE
                : new com.google.gson.JsonPrimitive(g.slidingWindow()));
        JsonArray types = new JsonArray();
        g.layerTypes().forEach(types::add);
        o.add("layer_types", types);
        if (g.localRopeTheta() != null) {
            o.addProperty("rope_local_base_freq", g.localRopeTheta());
        }
    }

    /** Phi3Config's own fields: the partial rotary factor and longrope with its original length at the top level. */
    private static void phi3Fields(ModelConfig c, JsonObject o) {
        o.addProperty("partial_rotary_factor", c.partialRotaryFactor());
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s == null) {
            return;
        }
        if (!s.isLongRope()) {
            throw new IllegalArgumentException("a Phi-3 config.json carries longrope scaling, not " + s.type());
        }
        o.addProperty("original_max_position_embeddings", s.originalMaxPositionEmbeddings());
        JsonObject rs = new JsonObject();
        rs.addProperty("type", "longrope");
        JsonArray shortFactor = new JsonArray();
        s.shortFactor().forEach(shortFactor::add);
        JsonArray longFactor = new JsonArray();
        s.longFactor().forEach(longFactor::add);
        rs.add("short_factor", shortFactor);
        rs.add("long_factor", longFactor);
        if (s.attentionFactor() != null) {
            rs.addProperty("attention_factor", s.attentionFactor());
        }
        o.add("rope_scaling", rs);
    }

    private static JsonArray ints(List<Integer> ids) {
        JsonArray a = new JsonArray();
        ids.forEach(a::add);
        return a;
    }

    private static void writeJson(Path file, JsonObject o) throws IOException {
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(o) + "\n",
                StandardCharsets.UTF_8);
    }
}
