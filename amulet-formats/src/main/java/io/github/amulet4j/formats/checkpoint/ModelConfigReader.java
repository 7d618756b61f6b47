package io.github.amulet4j.formats.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a Hugging Face {@code config.json} into a {@link ModelConfig}. Absent optional fields take the
 * defaults of the matching transformers configuration class (LlamaConfig, MistralConfig, Qwen2Config,
 * Qwen3Config, GPT2Config, Phi3Config, Gemma2Config, Gemma3TextConfig: for the Gemmas every field, as transformers
 * does); the other families' model dimensions ({@code hidden_size}, {@code num_hidden_layers},
 * {@code num_attention_heads}, {@code intermediate_size}, {@code vocab_size}, or GPT-2's {@code n_embd},
 * {@code n_layer}, {@code n_head}, {@code vocab_size}) are required.
 */
public final class ModelConfigReader {

    /** The file name in a model folder. */
    public static final String FILE_NAME = "config.json";

    private ModelConfigReader() {
    }

    /** Reads {@code config.json} of a model folder. */
    public static ModelConfig readFolder(Path modelDir) throws IOException {
        return read(modelDir.resolve(FILE_NAME));
    }

    /**
     * Reads a config file.
     *
     * @throws CheckpointException naming the file and field for a missing file, invalid JSON, an unsupported
     *                             architecture, or a missing or mistyped field
     */
    public static ModelConfig read(Path configJson) throws IOException {
        String text;
        try {
            text = Files.readString(configJson, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("model config not found: " + configJson
                    + " (a Hugging Face model folder needs config.json)");
        }
        return parse(text, configJson.toString());
    }

    /** Parses config JSON text; {@code source} names it in error messages. */
    public static ModelConfig parse(String json, String source) {
        JsonObject o = object(json, source);
        Fields f = new Fields(o, source);
        String arch = architecture(f);
        ModelConfig config = switch (arch) {
            case "GPT2LMHeadModel" -> gpt2(f, arch);
            case "LlamaForCausalLM" -> llamaFamily(f, arch, 1e-6, 2048, false, false, 1, List.of(2));
            case "MistralForCausalLM" -> llamaFamily(f, arch, 1e-6, 4096 * 32, false, false, 1, List.of(2));
            case "Qwen2ForCausalLM" -> llamaFamily(f, arch, 1e-6, 32768, true, false, null, List.of());
            case "Qwen3ForCausalLM" -> llamaFamily(f, arch, 1e-6, 32768, false, true, null, List.of());
            case "Gemma2ForCausalLM", "Gemma3ForCausalLM" -> gemma(f, f, arch);
            case "Gemma3ForConditionalGeneration" -> gemma(textConfig(f), f, "Gemma3ForCausalLM");
            case "Phi3ForCausalLM" -> phi3(f, arch);
            default -> throw new CheckpointException(source + ": unsupported architecture '" + arch
                    + "' (supported: " + String.join(", ", ModelConfig.SUPPORTED_ARCHITECTURES) + ")");
        };
        if (!ModelConfig.SUPPORTED_ACTIVATIONS.contains(config.effectiveHiddenAct())) {
            throw new CheckpointException(source + ": field '" + (config.isGpt2() ? "activation_function" : "hidden_act")
                    + "' is '" + config.effectiveHiddenAct() + "', which this library does not run (supported: "
                    + String.join(", ", ModelConfig.SUPPORTED_ACTIVATIONS) + ")");
        }
        return config;
    }

    /** The JSON object of a config file's text; a {@link CheckpointException} naming {@code source} otherwise. */
    static JsonObject object(String json, String source) {
        try {
            JsonElement el = JsonParser.parseString(json);
            if (el == null || !el.isJsonObject()) {
                throw new CheckpointException(source + ": expected a JSON object");
            }
            return el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new CheckpointException(source + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String architecture(Fields f) {
        JsonElement a = f.o.get("architectures");
        if (a != null && a.isJsonArray() && a.getAsJsonArray().size() > 0) {
            JsonElement first = a.getAsJsonArray().get(0);
            if (first.isJsonPrimitive() && first.getAsJsonPrimitive().isString()) {
                return first.getAsString();
            }
            throw new CheckpointException(f.source + ": field 'architectures' must be a list of strings, found " + a);
        }
        if (a != null && !a.isJsonNull() && !a.isJsonArray()) {
            throw new CheckpointException(f.source + ": field 'architectures' must be a list of strings, found " + a);
        }
        String modelType = f.optString("model_type", null);
        if (modelType == null) {
            throw new CheckpointException(f.source + ": missing field 'architectures' (and no 'model_type'); expected e.g. "
                    + "\"architectures\": [\"LlamaForCausalLM\"] (supported: "
                    + String.join(", ", ModelConfig.SUPPORTED_ARCHITECTURES) + ")");
        }
        return switch (modelType) {
            case "llama" -> "LlamaForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            case "qwen3" -> "Qwen3ForCausalLM";
            case "gpt2" -> "GPT2LMHeadModel";
            case "gemma2" -> "Gemma2ForCausalLM";
            case "gemma3_text" -> "Gemma3ForCausalLM";
            case "gemma3" -> "Gemma3ForConditionalGeneration";
            case "phi3" -> "Phi3ForCausalLM";
            default -> throw new CheckpointException(f.source + ": unsupported model_type '" + modelType
                    + "' and no 'architectures' (supported: " + String.join(", ", ModelConfig.SUPPORTED_ARCHITECTURES) + ")");
        };
    }

    private static ModelConfig gpt2(Fields f, String arch) {
        int hidden = f.reqPositiveInt("n_embd");
        int layers = f.reqPositiveInt("n_layer");
        int heads = f.reqPositiveInt("n_head");
        int vocab = f.reqPositiveInt("vocab_size");
        if (hidden % heads != 0) {
            throw new CheckpointException(f.source + ": n_embd " + hidden + " is not divisible by n_head " + heads);
        }
        Integer inner = f.optInt("n_inner", null);
        if (inner != null && inner <= 0) {
            throw new CheckpointException(f.source + ": field 'n_inner' must be positive or null, found " + inner);
        }
        return new ModelConfig(arch, hidden, layers, heads, heads, hidden / heads,
                inner == null ? 4 * hidden : inner, vocab,
                f.optPositiveInt("n_positions", 1024),
                f.optDouble("layer_norm_epsilon", 1e-5),
                10000.0, null,
                f.optBool("tie_word_embeddings", true),
                true, false,
                f.optString("activation_function", "gelu_new"),
                f.optInt("bos_token_id", 50256),
                f.has("eos_token_id") ? f.intList("eos_token_id") : List.of(50256),
                torchDtype(f));
    }

    private static ModelConfig llamaFamily(Fields f, String arch, double defaultEps, int defaultMaxPos,
                                           boolean qwen2Biases, boolean qkNorm, Integer defaultBos,
                                           List<Integer> defaultEos) {
        int hidden = f.reqPositiveInt("hidden_size");
        int layers = f.reqPositiveInt("num_hidden_layers");
        int heads = f.reqPositiveInt("num_attention_heads");
        int inter = f.reqPositiveInt("intermediate_size");
        int vocab = f.reqPositiveInt("vocab_size");
        int kv = f.optPositiveInt("num_key_value_heads", heads);
        if (heads % kv != 0) {
            throw new CheckpointException(f.source + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kv);
        }
        Integer headDim = f.optInt("head_dim", null);
        if (headDim == null) {
            if ("Qwen3ForCausalLM".equals(arch)) {
                headDim = 128; // Qwen3Config's default
            } else {
                if (hidden % heads != 0) {
                    throw new CheckpointException(f.source + ": hidden_size " + hidden
                            + " is not divisible by num_attention_heads " + heads + " and no head_dim is given");
                }
                headDim = hidden / heads;
            }
        } else if (headDim <= 0) {
            throw new CheckpointException(f.source + ": field 'head_dim' must be a positive integer, found " + headDim);
        }
        boolean bias = qwen2Biases || f.optBool("attention_bias", false);
        // transformers 5 moves rope_theta and rope_scaling into rope_parameters
        JsonObject ropeParams = f.optObject("rope_parameters");
        double theta = f.has("rope_theta") ? f.reqDouble("rope_theta")
                : ropeParams != null && ropeParams.has("rope_theta")
                ? new Fields(ropeParams, f.source + " rope_parameters").reqDouble("rope_theta") : 10000.0;
        ModelConfig.RopeScaling scaling = ropeScaling(f, f.optObject("rope_scaling"), "rope_scaling");
        if (scaling == null && ropeParams != null) {
            scaling = ropeScaling(f, ropeParams, "rope_parameters");
        }
        return new ModelConfig(arch, hidden, layers, heads, kv, headDim, inter, vocab,
                f.optPositiveInt("max_position_embeddings", defaultMaxPos),
                f.optDouble("rms_norm_eps", defaultEps), theta, scaling,
                f.optBool("tie_word_embeddings", false), bias, qkNorm,
                f.optString("hidden_act", "silu"),
                f.optInt("bos_token_id", defaultBos),
                f.has("eos_token_id") ? f.intList("eos_token_id") : defaultEos,
                torchDtype(f), slidingWindow(f, arch));
    }

    /** The {@code text_config} object of a Gemma 3 multimodal config (its language model's fields). */
    private static Fields textConfig(Fields f) {
        JsonObject text = f.optObject("text_config");
        if (text == null) {
            throw new CheckpointException(f.source + ": Gemma3ForConditionalGeneration needs 'text_config' (the language"
                    + " model's fields)");
        }
        return new Fields(text, f.source + " text_config");
    }

    /**
     * Gemma 2 ({@code Gemma2Config}'s defaults) or Gemma 3 text ({@code Gemma3TextConfig}'s) from {@code f};
     * {@code top} is the file's top level, which a multimodal config's {@code text_config} may leave the token ids
     * and the dtype to.
     */
    private static ModelConfig gemma(Fields f, Fields top, String arch) {
        boolean g3 = "Gemma3ForCausalLM".equals(arch);
        // every dimension has a default in Gemma2Config / Gemma3TextConfig, and real multimodal configs leave some
        // out (gemma-3-4b's text_config gives no heads and no vocab_size)
        int hidden = f.optPositiveInt("hidden_size", 2304);
        int layers = f.optPositiveInt("num_hidden_layers", 26);
        int heads = f.optPositiveInt("num_attention_heads", 8);
        int inter = f.optPositiveInt("intermediate_size", 9216);
        int vocab = f.optPositiveInt("vocab_size", g3 ? 262_208 : 256_000);
        int kv = f.optPositiveInt("num_key_value_heads", 4);
        if (heads % kv != 0) {
            throw new CheckpointException(f.source + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kv);
        }
        int headDim = f.optPositiveInt("head_dim", 256);
        if (f.optBool("use_bidirectional_attention", false)) {
            throw new CheckpointException(f.source + ": 'use_bidirectional_attention': true (an embedding model) is not"
                    + " a causal language model; " + arch + " is run with causal attention only");
        }
        // absent: the default 4096 of both configs; JSON null: no window on any layer
        Integer window = !f.o.has("sliding_window") ? Integer.valueOf(4096) : f.optInt("sliding_window", null);
        if (window != null && window < 1) {
            throw new CheckpointException(f.source + ": field 'sliding_window' must be a positive integer or null,"
                    + " found " + window);
        }
        List<Boolean> sliding = layerTypes(f, layers, g3);
        // transformers 5 writes the rotary fields per layer type in rope_parameters
        JsonObject ropeParams = f.optObject("rope_parameters");
        JsonObject full = ropeParams != null && ropeParams.has("full_attention") && ropeParams.get("full_attention").isJsonObject()
                ? ropeParams.getAsJsonObject("full_attention") : null;
        JsonObject local = ropeParams != null && ropeParams.has("sliding_attention") && ropeParams.get("sliding_attention").isJsonObject()
                ? ropeParams.getAsJsonObject("sliding_attention") : null;
        double defaultTheta = g3 ? 1_000_000.0 : 10_000.0;
        double theta;
        ModelConfig.RopeScaling scaling;
        if (full != null) {
            Fields ff = new Fields(full, f.source + " rope_parameters.full_attention");
            theta = ff.optDouble("rope_theta", defaultTheta);
            scaling = ropeScaling(f, full, "rope_parameters.full_attention");
        } else {
            theta = f.has("rope_theta") ? f.reqDouble("rope_theta")
                    : ropeParams != null && ropeParams.has("rope_theta")
                    ? new Fields(ropeParams, f.source + " rope_parameters").reqDouble("rope_theta") : defaultTheta;
            scaling = ropeScaling(f, f.optObject("rope_scaling"), "rope_scaling");
            if (scaling == null && ropeParams != null) {
                scaling = ropeScaling(f, ropeParams, "rope_parameters");
            }
        }
        Double localTheta = null;
        if (g3) {
            localTheta = local != null
                    ? new Fields(local, f.source + " rope_parameters.sliding_attention").optDouble("rope_theta", 10_000.0)
                    : f.optDouble("rope_local_base_freq", 10_000.0);
        }
        GemmaConfig gemma = new GemmaConfig(f.optDouble("query_pre_attn_scalar", 256),
                softcap(f, "attn_logit_softcapping", g3 ? null : 50.0),
                softcap(f, "final_logit_softcapping", g3 ? null : 30.0), window, sliding, localTheta);
        Fields ids = f.has("eos_token_id") || !top.has("eos_token_id") ? f : top;
        Fields bos = f.has("bos_token_id") || !top.has("bos_token_id") ? f : top;
        String dtype = torchDtype(f);
        return new ModelConfig(arch, hidden, layers, heads, kv, headDim, inter, vocab,
                f.optPositiveInt("max_position_embeddings", g3 ? 131_072 : 8192),
                f.optDouble("rms_norm_eps", 1e-6), theta, scaling,
                f.optBool("tie_word_embeddings", top.optBool("tie_word_embeddings", true)),
                f.optBool("attention_bias", false), g3,
                f.optString("hidden_activation", "gelu_pytorch_tanh"),
                bos.optInt("bos_token_id", 2),
                ids.has("eos_token_id") ? ids.intList("eos_token_id") : List.of(1),
                dtype != null ? dtype : torchDtype(top), null, gemma, 1.0);
    }

    /**
     * Which layers slide: {@code layer_types} when given, else Gemma 2's alternation (layer 0 sliding) or Gemma 3's
     * {@code sliding_window_pattern} (default 6: every sixth layer global).
     */
    private static List<Boolean> layerTypes(Fields f, int layers, boolean g3) {
        if (f.has("layer_types")) {
            JsonElement e = f.o.get("layer_types");
            if (!e.isJsonArray() || e.getAsJsonArray().size() != layers) {
                throw f.wrong("layer_types", "a list of " + layers + " strings (one per layer), each '"
                        + GemmaConfig.SLIDING + "' or '" + GemmaConfig.FULL + "'", e);
            }
            List<Boolean> out = new ArrayList<>();
            for (JsonElement t : e.getAsJsonArray()) {
                String type = t.isJsonPrimitive() && t.getAsJsonPrimitive().isString() ? t.getAsString() : null;
                if (!GemmaConfig.SLIDING.equals(type) && !GemmaConfig.FULL.equals(type)) {
                    throw f.wrong("layer_types", "a list of '" + GemmaConfig.SLIDING + "' and '" + GemmaConfig.FULL
                            + "' entries", e);
                }
                out.add(GemmaConfig.SLIDING.equals(type));
            }
            return out;
        }
        if (!g3) {
            return GemmaConfig.pattern(layers, 2);
        }
        String key = f.has("sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern";
        return GemmaConfig.pattern(layers, f.optPositiveInt(key, 6));
    }

    /** A soft-capping field: absent gives the default, JSON null none, else a positive number. */
    private static Double softcap(Fields f, String k, Double dflt) {
        if (!f.o.has(k)) {
            return dflt;
        }
        if (f.o.get(k).isJsonNull()) {
            return null;
        }
        double v = f.optDouble(k, Double.NaN);
        if (!(v > 0)) {
            throw f.wrong(k, "a positive number or null", f.o.get(k));
        }
        return v;
    }

    /**
     * Phi-3 / Phi-3.5 / Phi-4-mini: the Llama fields with Phi3Config's defaults (eps 1e-5, 4096 positions, BOS 1,
     * EOS 32000), {@code partial_rotary_factor} (in {@code rope_parameters} too) and {@code longrope} scaling, whose
     * original length is the top-level {@code original_max_position_embeddings}, else the scaling object's, else
     * Phi3Config's default 4096, and whose factor is max_position_embeddings over that length, as in
     * transformers. The fused {@code qkv_proj} and {@code gate_up_proj} are a matter of {@link TensorLayout}.
     */
    private static ModelConfig phi3(Fields f, String arch) {
        ModelConfig c = llamaFamily(f, arch, 1e-5, 4096, false, false, 1, List.of(32000));
        JsonObject ropeParams = f.optObject("rope_parameters");
        double partial = f.has("partial_rotary_factor") ? f.optDouble("partial_rotary_factor", 1.0)
                : ropeParams != null ? new Fields(ropeParams, f.source + " rope_parameters")
                .optDouble("partial_rotary_factor", 1.0) : 1.0;
        if (!(partial > 0 && partial <= 1)) {
            throw new CheckpointException(f.source + ": field 'partial_rotary_factor' must be in (0, 1], found " + partial);
        }
        c = c.withPartialRotaryFactor(partial);
        if (c.rotaryDim() < 2 || c.rotaryDim() % 2 != 0) {
            throw new CheckpointException(f.source + ": head_dim " + c.headDim() + " x partial_rotary_factor " + partial
                    + " gives " + c.rotaryDim() + " rotary dimensions; expected an even number >= 2");
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s != null && s.isLongRope()) {
            String field = f.has("rope_scaling") ? "rope_scaling" : "rope_parameters";
            Fields rs = new Fields(f.optObject(field), f.source + " " + field);
            int original = f.has("original_max_position_embeddings")
                    ? f.reqPositiveInt("original_max_position_embeddings")
                    : s.originalMaxPositionEmbeddings() > 0 ? s.originalMaxPositionEmbeddings() : 4096;
            int half = c.rotaryDim() / 2;
            List<Double> shortFactor = rs.doubleList("short_factor", half);
            List<Double> longFactor = rs.doubleList("long_factor", half);
            Double attention = rs.has("attention_factor") ? rs.reqDouble("attention_factor") : null;
            c = c.withRopeScaling(new ModelConfig.RopeScaling(s.type(), (double) c.maxPositions() / original, 1.0, 1.0,
                    original, shortFactor, longFactor, attention));
        }
        return c;
    }

    /**
     * Mistral's {@code sliding_window} (null or absent: full attention). Qwen2/Qwen3 apply a window only to some
     * layers when {@code use_sliding_window} is true, which this library does not run: that is refused by name.
     */
    private static Integer slidingWindow(Fields f, String arch) {
        if ("MistralForCausalLM".equals(arch) || "Phi3ForCausalLM".equals(arch)) {
            Integer w = f.optInt("sliding_window", null);
            if (w != null && w < 1) {
                throw new CheckpointException(f.source + ": field 'sliding_window' must be a positive integer or null,"
                        + " found " + w);
            }
            return w;
        }
        if (f.optBool("use_sliding_window", false)) {
            throw new CheckpointException(f.source + ": 'use_sliding_window': true (per-layer sliding-window attention"
                    + " of " + arch + ") is not supported; only Mistral's uniform sliding_window is");
        }
        return null;
    }

    private static ModelConfig.RopeScaling ropeScaling(Fields parent, JsonObject rs, String field) {
        if (rs == null) {
            return null;
        }
        Fields f = new Fields(rs, parent.source + " " + field);
        String type = f.optString("rope_type", null);
        if (type == null) {
            type = f.optString("type", null);
        }
        if (type == null) {
            throw new CheckpointException(parent.source + ": field '" + field + "' needs 'rope_type' (or 'type')");
        }
        if ("default".equals(type)) {
            return null;
        }
        if ("llama3".equals(type)) {
            return new ModelConfig.RopeScaling(type, f.reqDouble("factor"), f.reqDouble("low_freq_factor"),
                    f.reqDouble("high_freq_factor"), f.reqPositiveInt("original_max_position_embeddings"));
        }
        Integer orig = f.optInt("original_max_position_embeddings", null);
        return new ModelConfig.RopeScaling(type, f.optDouble("factor", 1.0), f.optDouble("low_freq_factor", 1.0),
                f.optDouble("high_freq_factor", 1.0), orig == null ? 0 : orig);
    }

    private static String torchDtype(Fields f) {
        String d = f.optString("torch_dtype", null);
        return d != null ? d : f.optString("dtype", null);
    }

    /** Typed access to one JSON object with errors that name the file and the field. */
    private static final class Fields {
        final JsonObject o;
        final String source;

        Fields(JsonObject o, String source) {
            this.o = o;
            this.source = source;
        }

        boolean has(String k) {
            JsonElement e = o.get(k);
            return e != null && !e.isJsonNull();
        }

        private CheckpointException wrong(String k, String expected, JsonElement found) {
            return new CheckpointException(source + ": field '" + k + "' must be " + expected + ", found " + found);
        }

        int reqPositiveInt(String k) {
            if (!has(k)) {
                throw new CheckpointException(source + ": missing required field '" + k + "' (a positive integer)");
            }
            int v = optInt(k, null);
            if (v <= 0) {
                throw wrong(k, "a positive integer", o.get(k));
            }
            return v;
        }

        int optPositiveInt(String k, int dflt) {
            Integer v = optInt(k, null);
            if (v == null) {
                return dflt;
            }
            if (v <= 0) {
                throw wrong(k, "a positive integer", o.get(k));
            }
            return v;
        }

        Integer optInt(String k, Integer dflt) {
            if (!has(k)) {
                return dflt;
            }
            return asInt(k, o.get(k));
        }

        private int asInt(String k, JsonElement e) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw wrong(k, "an integer", e);
            }
            try {
                return e.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
            } catch (ArithmeticException ex) {
                throw wrong(k, "an integer", e);
            }
        }

        double reqDouble(String k) {
            if (!has(k)) {
                throw new CheckpointException(source + ": missing required field '" + k + "' (a number)");
            }
            return optDouble(k, Double.NaN);
        }

        double optDouble(String k, double dflt) {
            if (!has(k)) {
                return dflt;
            }
            JsonElement e = o.get(k);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw wrong(k, "a number", e);
            }
            double v = e.getAsDouble();
            if (!Double.isFinite(v)) {
                throw wrong(k, "a finite number", e);
            }
            return v;
        }

        boolean optBool(String k, boolean dflt) {
            if (!has(k)) {
                return dflt;
            }
            JsonElement e = o.get(k);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
                throw wrong(k, "true or false", e);
            }
            return e.getAsBoolean();
        }

        String optString(String k, String dflt) {
            if (!has(k)) {
                return dflt;
            }
            JsonElement e = o.get(k);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw wrong(k, "a string", e);
            }
            return e.getAsString();
        }

        JsonObject optObject(String k) {
            if (!has(k)) {
                return null;
            }
            JsonElement e = o.get(k);
            if (!e.isJsonObject()) {
                throw wrong(k, "an object", e);
            }
            return e.getAsJsonObject();
        }

        /** A required list of {@code size} positive finite numbers. */
        List<Double> doubleList(String k, int size) {
            if (!has(k)) {
                throw new CheckpointException(source + ": missing required field '" + k + "' (a list of " + size
                        + " numbers, one per rotary frequency)");
            }
            JsonElement e = o.get(k);
            if (!e.isJsonArray() || e.getAsJsonArray().size() != size) {
                throw wrong(k, "a list of " + size + " numbers (rotary dimensions / 2)", e);
            }
            List<Double> out = new ArrayList<>();
            for (JsonElement x : e.getAsJsonArray()) {
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber() || !(x.getAsDouble() > 0)
                        || !Double.isFinite(x.getAsDouble())) {
                    throw wrong(k, "a list of positive numbers", e);
                }
                out.add(x.getAsDouble());
            }
            return out;
        }

        List<Integer> intList(String k) {
            JsonElement e = o.get(k);
            List<Integer> out = new ArrayList<>();
            if (e == null || e.isJsonNull()) {
                return out;
            }
            if (e.isJsonArray()) {
                JsonArray a = e.getAsJsonArray();
                for (JsonElement x : a) {
                    if (!(x instanceof JsonPrimitive)) {
                        throw wrong(k, "an integer or a list of integers", e);
                    }
                    out.add(asInt(k, x));
                }
                return out;
            }
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw wrong(k, "an integer or a list of integers", e);
            }
            out.add(asInt(k, e));
            return out;
        }
    }
}
