package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.GemmaConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.RotaryFrequencies;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@link ModelConfig} of a GGUF file, from its {@code general.architecture} and {@code <arch>.*} metadata
 * (as llama.cpp's converter writes them) and its tensors: {@code llama} (Llama 1/2/3.x, Mistral),
 * {@code qwen2}, {@code qwen3}, {@code gpt2}, {@code gemma2} and {@code gemma3} (see {@link #gemma}) and {@code phi3}
 * (fused {@code attn_qkv} and {@code ffn_up}, a partial rotary dimension count, longrope as
 * {@code rope_factors_long/short.weight} with {@code phi3.rope.scaling.original_context_length} and
 * {@code attn_factor}). The vocabulary size is the embedding's row count; the output
 * head is tied when there is no {@code output.weight}; the end-of-sequence ids are {@code tokenizer.ggml.eos_token_id},
 * {@code eot_token_id}, {@code eom_token_id} and, as llama.cpp does, the control tokens spelled like an end of
 * turn ({@code <|im_end|>}, {@code <|eot_id|>}, {@code <|endoftext|>}, ...); Llama 3's rotary scaling, which GGUF stores as the
 * per-frequency divisors of {@code rope_freqs.weight}, is turned back into {@code llama3} parameters that give
 * the same divisors (checked).
 */
public final class GgufModelConfig {

    /** GGUF architecture names and the Hugging Face architectures they run as. */
    public static final Map<String, String> ARCHITECTURES = Map.of(
            "llama", "LlamaForCausalLM",
            "qwen2", "Qwen2ForCausalLM",
            "qwen3", "Qwen3ForCausalLM",
            "gpt2", "GPT2LMHeadModel",
            "gemma2", "Gemma2ForCausalLM",
            "gemma3", "Gemma3ForCausalLM",
            "phi3", "Phi3ForCausalLM");

    /** Control tokens that end generation wherever they are (llama.cpp's end-of-generation texts). */
    static final Set<String> END_OF_TURN_TOKENS = Set.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<EOT>", "<|end_of_text|>");

    private GgufModelConfig() {
    }

    /**
     * Reads the configuration of a GGUF model.
     *
     * @throws GgufFormatException naming the file and the key or tensor for an unsupported architecture, a missing
     *                             or mistyped key, or an inconsistent tensor
     */
    public static ModelConfig read(GgufFile file) throws IOException {
        GgufMetadata m = file.metadata();
        String src = file.path().toString();
        String a = m.string("general.architecture");
        String arch = ARCHITECTURES.get(a);
        if (arch == null) {
            throw new GgufFormatException(src + ": metadata 'general.architecture' is '" + a + "'; supported: "
                    + String.join(", ", new java.util.TreeSet<>(ARCHITECTURES.keySet())));
        }
        int hidden = m.positiveInt(a + ".embedding_length");
        int layers = m.positiveInt(a + ".block_count");
        if (m.type(a + ".attention.head_count") == GgufValueType.ARRAY
                || m.type(a + ".attention.head_count_kv") == GgufValueType.ARRAY) {
            throw new GgufFormatException(src + ": per-layer head counts ('" + a + ".attention.head_count(_kv)' as"
                    + " arrays) are not supported");
        }
        int heads = m.positiveInt(a + ".attention.head_count");
        int kv = m.optPositiveInt(a + ".attention.head_count_kv", heads);
        if (heads % kv != 0) {
            throw new GgufFormatException(src + ": '" + a + ".attention.head_count' " + heads
                    + " is not a multiple of '" + a + ".attention.head_count_kv' " + kv);
        }
        int headDim;
        if (m.has(a + ".attention.key_length")) {
            headDim = m.positiveInt(a + ".attention.key_length");
        } else if (hidden % heads == 0) {
            headDim = hidden / heads;
        } else {
            throw new GgufFormatException(src + ": '" + a + ".embedding_length' " + hidden + " is not divisible by '"
                    + a + ".attention.head_count' " + heads + " and there is no '" + a + ".attention.key_length'");
        }
        int valueLength = m.optPositiveInt(a + ".attention.value_length", headDim);
        if (valueLength != headDim) {
            throw new GgufFormatException(src + ": '" + a + ".attention.value_length' " + valueLength
                    + " differs from the key length " + headDim + "; not supported");
        }
        int inter = m.positiveInt(a + ".feed_forward_length");
        GgufTensorInfo embd = file.tensor("token_embd.weight");
        if (embd.ne().length != 2 || embd.ne()[0] != hidden) {
            throw new GgufFormatException(src + ": tensor 'token_embd.weight' has shape "
                    + java.util.Arrays.toString(embd.shape()) + ", expected [vocab, " + hidden + "]");
        }
        if (embd.ne()[1] > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(src + ": tensor 'token_embd.weight' has a vocabulary of " + embd.ne()[1]
                    + " rows, more than a Java array holds");
        }
        int vocab = (int) embd.ne()[1];
        int maxPositions = m.optPositiveInt(a + ".context_length", 2048);
        boolean gpt2 = "gpt2".equals(a);
        boolean gemma = a.startsWith("gemma");
        double eps = gpt2 ? m.optNumber(a + ".attention.layer_norm_epsilon", 1e-5)
                : m.optNumber(a + ".attention.layer_norm_rms_epsilon", gemma ? 1e-6 : 1e-5);
        double theta = m.optNumber(a + ".rope.freq_base", 10000.0);
        boolean phi3 = "phi3".equals(a);
        double partialRotary = 1.0;
        if (phi3 && m.has(a + ".rope.dimension_count")) {
            int rot = m.positiveInt(a + ".rope.dimension_count");
            if (rot > headDim || rot % 2 != 0) {
                throw new GgufFormatException(src + ": '" + a + ".rope.dimension_count' " + rot
                        + " must be even and at most the head size " + headDim);
            }
            partialRotary = (double) rot / headDim;
            while ((int) (headDim * partialRotary) < rot) {
                partialRotary = Math.nextUp(partialRotary);
            }
        } else if (!gpt2 && m.has(a + ".rope.dimension_count") && m.positiveInt(a + ".rope.dimension_count") != headDim) {
            throw new GgufFormatException(src + ": '" + a + ".rope.dimension_count' "
                    + m.positiveInt(a + ".rope.dimension_count") + " is not the head size " + headDim
                    + " (partial rotary embeddings are not supported)");
        }
        boolean tied = !file.tensors().containsKey("output.weight");
        boolean bias = "qwen2".equals(a) || gpt2 || file.tensors().containsKey("blk.0.attn_q.bias");
        boolean qkNorm = "qwen3".equals(a) || "gemma3".equals(a);
        String act = gpt2 ? "gelu_new" : gemma ? "gelu_pytorch_tanh" : "silu";
        Integer bos = m.optNonNegativeInt("tokenizer.ggml.bos_token_id");
        Set<Integer> eos = new LinkedHashSet<>();
        for (String k : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                "tokenizer.ggml.eom_token_id")) {
            Integer id = m.optNonNegativeInt(k);
            if (id != null && id < vocab) {
                eos.add(id);
            }
        }
        // as llama.cpp: control tokens spelled like an end of turn also end generation
        if (m.type("tokenizer.ggml.tokens") == GgufValueType.ARRAY && m.has("tokenizer.ggml.token_type")) {
            // (the control tokens only: the others stay undecoded on this, the weights', thread)
            GgufArray tokens = m.array("tokenizer.ggml.tokens");
            if (tokens.elementType() != GgufValueType.STRING) {
                m.strings("tokenizer.ggml.tokens"); // the error naming the key
            }
            int[] types = m.ints("tokenizer.ggml.token_type");
            for (int i = 0; i < Math.min(Math.min(tokens.size(), types.length), vocab); i++) {
                if (types[i] == GgufTokenizer.CONTROL && END_OF_TURN_TOKENS.contains(tokens.string(i))) {
                    eos.add(i);
                }
            }
        }
        Integer window = m.optNonNegativeInt(a + ".attention.sliding_window");
        if (window != null && window == 0) {
            window = null;
        }
        if (window != null && !"llama".equals(a) && !gemma && !phi3) {
            throw new GgufFormatException(src + ": '" + a + ".attention.sliding_window' (per-layer sliding-window"
                    + " attention of " + a + ") is not supported");
        }
        String storedType = dominantType(file);
        ModelConfig plain = new ModelConfig(arch, hidden, layers, heads, kv, headDim, inter, vocab, maxPositions, eps,
                gpt2 ? 10000.0 : theta, null, tied, bias, qkNorm, act, bos,
                new ArrayList<>(eos), storedType, gemma ? null : window, gemma ? gemma(m, a, layers, hidden, heads,
                headDim, window) : null, 1.0);
        if (phi3) {
            plain = plain.withPartialRotaryFactor(partialRotary);
            return plain.withRopeScaling(phi3LongRope(file, plain));
        }
        ModelConfig.RopeScaling scaling = gpt2 ? null : ropeScaling(file, plain);
        return scaling == null ? plain : plain.withRopeScaling(scaling);
    }

    /**
     * The Gemma fields as llama.cpp reads them: soft-capping from {@code <arch>.attn_logit_softcapping} and
     * {@code <arch>.final_logit_softcapping} (Gemma 2: 50 and 30 when absent; Gemma 3: logits only, none when absent);
     * the window from {@code <arch>.attention.sliding_window} (Gemma 2: 4096 when absent; Gemma 3: none); sliding
     * layers from {@code <arch>.attention.sliding_window_pattern} (one flag per layer, or the period) or llama.cpp's
     * rule (Gemma 2: every other layer from layer 0; Gemma 3: all but every sixth);
     * Gemma 3's local rotary base from {@code <arch>.rope.freq_base_swa}, else 10,000; the attention scale, which GGUF
     * does not store, as llama.cpp derives it ({@code query_pre_attn_scalar} is the head size except for the 27B
     * models, whose 46 (Gemma 2) or 62 (Gemma 3) layers take hidden / heads).
     */
    private static GemmaConfig gemma(GgufMetadata m, String a, int layers, int hidden, int heads, int headDim,
                                     Integer window) {
        boolean g3 = "gemma3".equals(a);
        if (!g3 && !m.has(a + ".attention.sliding_window")) {
            window = 4096; // llama.cpp's default for Gemma 2
        }
        java.util.List<Boolean> sliding;
        if (m.has(a + ".attention.sliding_window_pattern")
                && m.type(a + ".attention.sliding_window_pattern") != GgufValueType.ARRAY) {
            sliding = GemmaConfig.pattern(layers, m.positiveInt(a + ".attention.sliding_window_pattern"));
        } else if (m.has(a + ".attention.sliding_window_pattern")) {
            String key = a + ".attention.sliding_window_pattern";
            sliding = new ArrayList<>();
            if (m.array(key).values() instanceof boolean[] flags) {
                for (boolean f : flags) {
                    sliding.add(f);
                }
            } else {
                for (int f : m.ints(key)) {
                    sliding.add(f != 0);
                }
            }
            if (sliding.size() != layers) {
                throw new GgufFormatException("metadata '" + key + "' has " + sliding.size() + " entries for " + layers
                        + " layers");
            }
        } else {
            sliding = GemmaConfig.pattern(layers, g3 ? 6 : 2);
        }
        boolean big = layers == (g3 ? 62 : 46);
        double scalar = big ? (double) hidden / heads : headDim;
        // llama.cpp: Gemma 2 caps at 50 and 30 unless the file says otherwise; Gemma 3 caps no attention score and
        // the logits only when the file says so
        Double attnCap = g3 ? null : Double.valueOf(m.optNumber(a + ".attn_logit_softcapping", 50.0));
        Double finalCap = m.has(a + ".final_logit_softcapping")
                ? Double.valueOf(m.optNumber(a + ".final_logit_softcapping", 0)) : g3 ? null : Double.valueOf(30.0);
        return new GemmaConfig(scalar, attnCap != null && attnCap > 0 ? attnCap : null,
                finalCap != null && finalCap > 0 ? finalCap : null, window, sliding,
                g3 ? m.optNumber(a + ".rope.freq_base_swa", 10_000.0) : null);
    }

    /**
     * Phi-3's longrope from {@code rope_factors_long.weight} and {@code rope_factors_short.weight} (one factor per
     * rotary frequency each), {@code phi3.rope.scaling.original_context_length} (required with them) and
     * {@code phi3.rope.scaling.attn_factor} (kept as the attention factor when present); null without the tensors.
     */
    private static ModelConfig.RopeScaling phi3LongRope(GgufFile file, ModelConfig plain) throws IOException {
        String src = file.path().toString();
        GgufTensorInfo longT = file.tensors().get("rope_factors_long.weight");
        GgufTensorInfo shortT = file.tensors().get("rope_factors_short.weight");
        if (longT == null && shortT == null) {
            return null;
        }
        if (longT == null || shortT == null) {
            throw new GgufFormatException(src + ": Phi-3 longrope needs both 'rope_factors_long.weight' and"
                    + " 'rope_factors_short.weight'");
        }
        GgufMetadata m = file.metadata();
        int original = m.positiveInt("phi3.rope.scaling.original_context_length");
        Double attention = m.has("phi3.rope.scaling.attn_factor") ? m.optNumber("phi3.rope.scaling.attn_factor", 1.0)
                : null;
        List<Double> longFactor = factors(GgufTensorStore.decodeAll(file, longT), plain, "rope_factors_long.weight",
                src);
        List<Double> shortFactor = factors(GgufTensorStore.decodeAll(file, shortT), plain,
                "rope_factors_short.weight", src);
        return new ModelConfig.RopeScaling("longrope", (double) plain.maxPositions() / original, 1.0, 1.0, original,
                shortFactor, longFactor, attention);
    }

    private static List<Double> factors(float[] values, ModelConfig plain, String tensor, String src) {
        if (values.length != plain.rotaryDim() / 2) {
            throw new GgufFormatException(src + ": tensor '" + tensor + "' has " + values.length
                    + " values, expected rotary dimensions / 2 = " + plain.rotaryDim() / 2);
        }
        List<Double> out = new ArrayList<>();
        for (float v : values) {
            if (!(v > 0) || !Float.isFinite(v)) {
                throw new GgufFormatException(src + ": tensor '" + tensor + "' holds " + v + ", expected positive factors");
            }
            out.add((double) v);
        }
        return out;
    }

    /** The type most of the weights are stored in ({@code Q8_0}, {@code F16}, ...). */
    private static String dominantType(GgufFile file) {
        Map<GgmlType, Long> bytes = new java.util.EnumMap<>(GgmlType.class);
        for (GgufTensorInfo t : file.tensors().values()) {
            bytes.merge(t.type(), t.byteSize(), Long::sum);
        }
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name()).orElse(null);
    }

    private static ModelConfig.RopeScaling ropeScaling(GgufFile file, ModelConfig plain) throws IOException {
        GgufMetadata m = file.metadata();
        String a = m.string("general.architecture");
        String src = file.path().toString();
        String type = m.optString(a + ".rope.scaling.type", "none");
        GgufTensorInfo freqs = file.tensors().get("rope_freqs.weight");
        if (freqs != null) {
            if (!"none".equals(type) && !"llama3".equals(type)) {
                throw new GgufFormatException(src + ": both 'rope_freqs.weight' and rope scaling '" + type + "'");
            }
            float[] divisors = GgufTensorStore.decodeAll(file, freqs);
            return Llama3Rope.fromDivisors(divisors, plain, m.optPositiveInt(a + ".rope.scaling.original_context_length",
                    8192), src);
        }
        return switch (type) {
            case "none" -> null;
            case "linear" -> new ModelConfig.RopeScaling("linear", m.optNumber(a + ".rope.scaling.factor", 1.0), 1.0,
                    1.0, 0);
            default -> throw new GgufFormatException(src + ": metadata '" + a + ".rope.scaling.type' is '" + type
                    + "'; supported: none, linear, and Llama 3's rope_freqs.weight");
        };
    }

    /** Llama 3 rotary scaling parameters recovered from GGUF's per-frequency divisors. */
    static final class Llama3Rope {

        private Llama3Rope() {
        }

        /**
         * Parameters of {@code llama3} scaling whose frequencies equal {@code base / divisors[i]}; with HF's formula the
         * divisor of frequency i is 1 (high band), {@code factor} (low band) or {@code 1 / ((1 - s)/factor + s)}
         * with {@code s = a * x_i - b} linear in {@code x_i = original / wavelength_i} (medium band). Any
         * parameters with the same factor, the same a, b and the same band membership give the same frequencies.
         */
        static ModelConfig.RopeScaling fromDivisors(float[] divisors, ModelConfig plain, int original, String src) {
            float[] base = RotaryFrequencies.inverseFrequencies(plain);
            if (divisors.length != base.length) {
                throw new GgufFormatException(src + ": tensor 'rope_freqs.weight' has " + divisors.length
                        + " values, expected " + base.length + " (head size / 2)");
            }
            double factor = 1;
            for (float d : divisors) {
                if (!(d > 0) || !Float.isFinite(d)) {
                    throw new GgufFormatException(src + ": tensor 'rope_freqs.weight' holds " + d
                            + ", expected positive divisors");
                }
                factor = Math.max(factor, d);
            }
            if (factor == 1) {
                return null;
            }
            double[] x = new double[base.length];
            double[] s = new double[base.length];
            double lastHigh = Double.POSITIVE_INFINITY;
            double firstLow = Double.NEGATIVE_INFINITY;
            List<Integer> medium = new ArrayList<>();
            for (int i = 0; i < base.length; i++) {
                x[i] = original * base[i] / (2 * Math.PI);
                double d = divisors[i];
                if (Math.abs(d - 1) < 1e-6) {
                    lastHigh = Math.min(lastHigh, x[i]);
                } else if (Math.abs(d - factor) < 1e-6 * factor) {
                    firstLow = Math.max(firstLow, x[i]);
                } else {
                    s[i] = (1 / d - 1 / factor) / (1 - 1 / factor);
                    medium.add(i);
                }
            }
            double low;
            double high;
            if (medium.size() >= 2) {
                int i = medium.get(0);
                int j = medium.get(medium.size() - 1);
                double slope = (s[i] - s[j]) / (x[i] - x[j]);
                low = x[i] - s[i] / slope;
                high = low + 1 / slope;
            } else if (medium.size() == 1) {
                int i = medium.get(0);
                double width = Math.min(Double.isInfinite(lastHigh) ? Double.MAX_VALUE : (lastHigh - x[i]) / (1 - s[i]),
                        Double.isInfinite(firstLow) ? Double.MAX_VALUE : (x[i] - firstLow) / s[i]) / 2;
                low = x[i] - s[i] * width;
                high = low + width;
            } else {
                double top = Double.isInfinite(lastHigh) ? firstLow * 2 + 1 : lastHigh;
                double bottom = Double.isInfinite(firstLow) ? 0 : firstLow;
                low = bottom + (top - bottom) / 4;
                high = bottom + 3 * (top - bottom) / 4;
            }
            ModelConfig.RopeScaling scaling = new ModelConfig.RopeScaling("llama3", factor, low, high, original);
            ModelConfig scaled = plain.withRopeScaling(scaling);
            float[] got = RotaryFrequencies.inverseFrequencies(scaled);
            for (int i = 0; i < base.length; i++) {
                double want = base[i] / divisors[i];
                if (Math.abs(got[i] - want) > 1e-5 * want) {
                    throw new GgufFormatException(src + ": tensor 'rope_freqs.weight' is not of Llama 3's form"
                            + " (frequency " + i + ": divisor " + divisors[i] + "); other rope scalings are not supported");
                }
            }
            return scaling;
        }
    }
}
