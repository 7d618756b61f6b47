package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;

/**
 * An independent forward pass in plain Java loops (double accumulation) over the float32 values of a
 * {@link TensorStore}: embedding, RMSNorm / LayerNorm, rotary embedding (rotate_half, linear, llama3 and longrope
 * scaling, partial rotary factor), Phi-3's fused projections, Gemma 2 / Gemma 3 (norms times 1 + w, soft-capping,
 * per-layer windows), grouped-query causal attention, SwiGLU / GELU-new MLP and head. Used to check the DJL model.
 */
public final class NaiveReference {

    private final ModelConfig c;
    private final TensorStore s;
    private final String p;

    public NaiveReference(ModelConfig config, TensorStore store) {
        this.c = config;
        this.s = store;
        this.p = config.isGpt2() && store.contains("transformer.wte.weight") ? "transformer." : "";
    }

    /** Logits at every position of {@code tokens}: {@code [T][vocab]}. */
    public float[][] logits(int[] tokens) {
        return c.isGemma() ? gemma(tokens) : c.isGpt2() ? gpt2(tokens) : llama(tokens);
    }

    /**
     * Gemma 2 / Gemma 3 written from their formulas: embeddings times sqrt(hidden), RMSNorms times (1 + w), norms on
     * the attention's and the MLP's outputs, q/k norms (Gemma 3), scores scaled by query_pre_attn_scalar^-1/2 and
     * soft-capped, per-layer windows and rotary bases, GeGLU with tanh GELU, soft-capped logits.
     */
    private float[][] gemma(int[] tokens) {
        io.github.amulet4j.formats.checkpoint.GemmaConfig g = c.gemma();
        String m = java.util.stream.Stream.of("model.", "language_model.model.", "model.language_model.")
                .filter(x -> s.contains(x + "embed_tokens.weight")).findFirst().orElseThrow();
        int t = tokens.length;
        int hs = c.hiddenSize();
        int nh = c.numHeads();
        int kvh = c.numKvHeads();
        int hd = c.headDim();
        int inter = c.intermediateSize();
        float[] emb = w(m + "embed_tokens.weight");
        double scale = (float) Math.sqrt(hs);
        if ("bfloat16".equals(c.torchDtype())) {
            scale = Float.intBitsToFloat((Float.floatToIntBits((float) scale) + 0x7FFF
                    + ((Float.floatToIntBits((float) scale) >>> 16) & 1)) & 0xFFFF0000);
        }
        double[][] x = new double[t][hs];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hs; j++) {
                x[i][j] = emb[tokens[i] * hs + j] * scale;
            }
        }
        double[] global = invFreq(t);
        double[] local = g.localRopeTheta() == null ? global : new double[hd / 2];
        for (int i = 0; g.localRopeTheta() != null && i < hd / 2; i++) {
            local[i] = 1 / Math.pow(g.localRopeTheta(), 2.0 * i / hd);
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String pre = m + "layers." + l + ".";
            String a = pre + "self_attn.";
            boolean sliding = g.slidingLayers().get(l);
            double[] inv = sliding ? local : global;
            double[][] q = new double[t][];
            double[][] k = new double[t][];
            double[][] v = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] h = gemmaRms(x[i], w(pre + "input_layernorm.weight"));
                q[i] = matvec(w(a + "q_proj.weight"), nh * hd, hs, h, null);
                k[i] = matvec(w(a + "k_proj.weight"), kvh * hd, hs, h, null);
                v[i] = matvec(w(a + "v_proj.weight"), kvh * hd, hs, h, null);
                if (c.qkNorm()) {
                    for (int hh = 0; hh < nh; hh++) {
                        gemmaRmsPart(q[i], hh * hd, hd, w(a + "q_norm.weight"));
                    }
                    for (int hh = 0; hh < kvh; hh++) {
                        gemmaRmsPart(k[i], hh * hd, hd, w(a + "k_norm.weight"));
                    }
                }
                rope(q[i], nh, hd, i, inv);
                rope(k[i], kvh, hd, i, inv);
            }
            Integer window = sliding ? g.slidingWindow() : null;
            double[][] att = gemmaAttention(q, k, v, nh, kvh, hd, window, g);
            for (int i = 0; i < t; i++) {
                double[] o = matvec(w(a + "o_proj.weight"), hs, nh * hd, att[i], null);
                add(x[i], gemmaRms(o, w(pre + "post_attention_layernorm.weight")));
                double[] h = gemmaRms(x[i], w(pre + "pre_feedforward_layernorm.weight"));
                double[] gate = matvec(w(pre + "mlp.gate_proj.weight"), inter, hs, h, null);
                double[] u = matvec(w(pre + "mlp.up_proj.weight"), inter, hs, h, null);
                double[] mm = new double[inter];
                for (int j = 0; j < inter; j++) {
                    double z = gate[j];
                    mm[j] = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z))) * u[j];
                }
                double[] d = matvec(w(pre + "mlp.down_proj.weight"), hs, inter, mm, null);
                add(x[i], gemmaRms(d, w(pre + "post_feedforward_layernorm.weight")));
            }
        }
        float[][] out = new float[t][];
        for (int i = 0; i < t; i++) {
            double[] logits = matvec(emb, c.vocabSize(), hs, gemmaRms(x[i], w(m + "norm.weight")), null);
            if (g.finalLogitSoftcapping() != null) {
                double cap = g.finalLogitSoftcapping();
                for (int j = 0; j < logits.length; j++) {
                    logits[j] = cap * Math.tanh(logits[j] / cap);
                }
            }
            out[i] = toFloat(logits);
        }
        return out;
    }

    /** Gemma's attention: scale query_pre_attn_scalar^-1/2, soft-capped scores, an optional window. */
    private static double[][] gemmaAttention(double[][] q, double[][] k, double[][] v, int nh, int kvh, int hd,
                                             Integer window, io.github.amulet4j.formats.checkpoint.GemmaConfig g) {
        int t = q.length;
        int group = nh / kvh;
        double[][] out = new double[t][nh * hd];
        double scale = Math.pow(g.queryPreAttnScalar(), -0.5);
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < nh; h++) {
                int kh = h / group;
                int first = window == null ? 0 : Math.max(0, i - window + 1);
                double[] sc = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = first; j <= i; j++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) {
                        d += q[i][h * hd + e] * k[j][kh * hd + e];
                    }
                    sc[j] = d * scale;
                    if (g.attnLogitSoftcapping() != null) {
                        sc[j] = g.attnLogitSoftcapping() * Math.tanh(sc[j] / g.attnLogitSoftcapping());
                    }
                    max = Math.max(max, sc[j]);
                }
                double sum = 0;
                for (int j = first; j <= i; j++) {
                    sc[j] = Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                for (int j = first; j <= i; j++) {
                    for (int e = 0; e < hd; e++) {
                        out[i][h * hd + e] += sc[j] / sum * v[j][kh * hd + e];
                    }
                }
            }
        }
        return out;
    }

    /** Gemma's RMSNorm: {@code x / rms(x) * (1 + w)}. */
    private double[] gemmaRms(double[] x, float[] weight) {
        double[] out = x.clone();
        gemmaRmsPart(out, 0, x.length, weight);
        return out;
    }

    private void gemmaRmsPart(double[] x, int off, int len, float[] weight) {
        double ss = 0;
        for (int i = off; i < off + len; i++) {
            ss += x[i] * x[i];
        }
        double inv = 1 / Math.sqrt(ss / len + c.normEps());
        for (int i = 0; i < len; i++) {
            x[off + i] = x[off + i] * inv * (1.0 + weight[i]);
        }
    }

    private float[] w(String name) {
        return s.readFloat32(name);
    }

    private float[][] llama(int[] tokens) {
        int t = tokens.length;
        int hs = c.hiddenSize();
        int nh = c.numHeads();
        int kvh = c.numKvHeads();
        int hd = c.headDim();
        int inter = c.intermediateSize();
        float[] emb = w("model.embed_tokens.weight");
        double[][] x = new double[t][hs];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hs; j++) {
                x[i][j] = emb[tokens[i] * hs + j];
            }
        }
        double[] invFreq = invFreq(t);
        int rot = c.rotaryDim();
        double scale = longRopeAttentionFactor();
        for (int l = 0; l < c.numLayers(); l++) {
            String pre = "model.layers." + l + ".";
            String a = pre + "self_attn.";
            double[][] q = new double[t][];
            double[][] k = new double[t][];
            double[][] v = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] h = rms(x[i], w(pre + "input_layernorm.weight"));
                if (c.isPhi3()) {
                    double[] qkv = matvec(w(a + "qkv_proj.weight"), (nh + 2 * kvh) * hd, hs, h, null);
                    q[i] = java.util.Arrays.copyOfRange(qkv, 0, nh * hd);
                    k[i] = java.util.Arrays.copyOfRange(qkv, nh * hd, (nh + kvh) * hd);
                    v[i] = java.util.Arrays.copyOfRange(qkv, (nh + kvh) * hd, (nh + 2 * kvh) * hd);
                    rope(q[i], nh, hd, i, invFreq, rot, scale);
                    rope(k[i], kvh, hd, i, invFreq, rot, scale);
                    continue;
                }
                q[i] = matvec(w(a + "q_proj.weight"), nh * hd, hs, h, c.attentionBias() ? w(a + "q_proj.bias") : null);
                k[i] = matvec(w(a + "k_proj.weight"), kvh * hd, hs, h, c.attentionBias() ? w(a + "k_proj.bias") : null);
                v[i] = matvec(w(a + "v_proj.weight"), kvh * hd, hs, h, c.attentionBias() ? w(a + "v_proj.bias") : null);
                if (c.qkNorm()) {
                    perHeadRms(q[i], nh, hd, w(a + "q_norm.weight"));
                    perHeadRms(k[i], kvh, hd, w(a + "k_norm.weight"));
                }
                rope(q[i], nh, hd, i, invFreq);
                rope(k[i], kvh, hd, i, invFreq);
            }
            boolean oBias = c.attentionBias() && !"Qwen2ForCausalLM".equals(c.architecture());
            double[][] att = attention(q, k, v, nh, kvh, hd, c.slidingWindow());
            for (int i = 0; i < t; i++) {
                double[] o = matvec(w(a + "o_proj.weight"), hs, nh * hd, att[i], oBias ? w(a + "o_proj.bias") : null);
                add(x[i], o);
                double[] h = rms(x[i], w(pre + "post_attention_layernorm.weight"));
                double[] g;
                double[] u;
                if (c.isPhi3()) {
                    double[] gu = matvec(w(pre + "mlp.gate_up_proj.weight"), 2 * inter, hs, h, null);
                    g = java.util.Arrays.copyOfRange(gu, 0, inter);
                    u = java.util.Arrays.copyOfRange(gu, inter, 2 * inter);
                } else {
                    g = matvec(w(pre + "mlp.gate_proj.weight"), inter, hs, h, null);
                    u = matvec(w(pre + "mlp.up_proj.weight"), inter, hs, h, null);
                }
                double[] m = new double[inter];
                for (int j = 0; j < inter; j++) {
                    m[j] = g[j] / (1 + Math.exp(-g[j])) * u[j];
                }
                add(x[i], matvec(w(pre + "mlp.down_proj.weight"), hs, inter, m, null));
            }
        }
        float[] head = c.tieWordEmbeddings() ? emb : w("lm_head.weight");
        float[][] out = new float[t][];
        for (int i = 0; i < t; i++) {
            out[i] = toFloat(matvec(head, c.vocabSize(), hs, rms(x[i], w("model.norm.weight")), null));
        }
        return out;
    }

    private float[][] gpt2(int[] tokens) {
        int t = tokens.length;
        int hs = c.hiddenSize();
        int nh = c.numHeads();
        int hd = hs / nh;
        int inter = c.intermediateSize();
        float[] wte = w(p + "wte.weight");
        float[] wpe = w(p + "wpe.weight");
        double[][] x = new double[t][hs];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hs; j++) {
                x[i][j] = wte[tokens[i] * hs + j] + (double) wpe[i * hs + j];
            }
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String pre = p + "h." + l + ".";
            double[][] q = new double[t][hs];
            double[][] k = new double[t][hs];
            double[][] v = new double[t][hs];
            for (int i = 0; i < t; i++) {
                double[] h = layerNorm(x[i], w(pre + "ln_1.weight"), w(pre + "ln_1.bias"));
                double[] qkv = conv1d(w(pre + "attn.c_attn.weight"), hs, 3 * hs, h, w(pre + "attn.c_attn.bias"));
                System.arraycopy(qkv, 0, q[i], 0, hs);
                System.arraycopy(qkv, hs, k[i], 0, hs);
                System.arraycopy(qkv, 2 * hs, v[i], 0, hs);
            }
            double[][] att = attention(q, k, v, nh, nh, hd, null);
            for (int i = 0; i < t; i++) {
                add(x[i], conv1d(w(pre + "attn.c_proj.weight"), hs, hs, att[i], w(pre + "attn.c_proj.bias")));
                double[] h = layerNorm(x[i], w(pre + "ln_2.weight"), w(pre + "ln_2.bias"));
                double[] f = conv1d(w(pre + "mlp.c_fc.weight"), hs, inter, h, w(pre + "mlp.c_fc.bias"));
                for (int j = 0; j < inter; j++) {
                    double z = f[j];
                    f[j] = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
                }
                add(x[i], conv1d(w(pre + "mlp.c_proj.weight"), inter, hs, f, w(pre + "mlp.c_proj.bias")));
            }
        }
        float[] head = c.tieWordEmbeddings() ? wte : w("lm_head.weight");
        float[][] out = new float[t][];
        for (int i = 0; i < t; i++) {
            out[i] = toFloat(matvec(head, c.vocabSize(), hs,
                    layerNorm(x[i], w(p + "ln_f.weight"), w(p + "ln_f.bias")), null));
        }
        return out;
    }

    /**
     * Causal attention; query head h reads key/value head h / (nh / kvh); with a sliding window, query i sees keys
     * j with i - j < window only.
     */
    private static double[][] attention(double[][] q, double[][] k, double[][] v, int nh, int kvh, int hd,
                                        Integer window) {
        int t = q.length;
        int group = nh / kvh;
        double[][] out = new double[t][nh * hd];
        double scale = 1 / Math.sqrt(hd);
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < nh; h++) {
                int kh = h / group;
                int first = window == null ? 0 : Math.max(0, i - window + 1);
                double[] sc = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = first; j <= i; j++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) {
                        d += q[i][h * hd + e] * k[j][kh * hd + e];
                    }
                    sc[j] = d * scale;
                    max = Math.max(max, sc[j]);
                }
                double sum = 0;
                for (int j = first; j <= i; j++) {
                    sc[j] = Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                for (int j = first; j <= i; j++) {
                    for (int e = 0; e < hd; e++) {
                        out[i][h * hd + e] += sc[j] / sum * v[j][kh * hd + e];
                    }
                }
            }
        }
        return out;
    }

    /** Longrope's factor on cos and sin: as configured, else sqrt(1 + ln(max / original) / ln(original)); else 1. */
    private double longRopeAttentionFactor() {
        ModelConfig.RopeScaling rs = c.ropeScaling();
        if (rs == null || !rs.isLongRope()) {
            return 1;
        }
        if (rs.attentionFactor() != null) {
            return rs.attentionFactor();
        }
        double factor = (double) c.maxPositions() / rs.originalMaxPositionEmbeddings();
        return factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(rs.originalMaxPositionEmbeddings()));
    }

    /**
     * Inverse frequencies over the rotary dimensions for a sequence of {@code t} tokens, with linear scaling, llama3
     * band remapping and longrope's factors (long beyond the original length) written from the formulas.
     */
    private double[] invFreq(int t) {
        int hd = c.rotaryDim();
        double[] f = new double[hd / 2];
        for (int i = 0; i < hd / 2; i++) {
            f[i] = 1 / Math.pow(c.ropeTheta(), 2.0 * i / hd);
        }
        ModelConfig.RopeScaling rs = c.ropeScaling();
        if (rs != null && rs.isLongRope()) {
            java.util.List<Double> ext = t > rs.originalMaxPositionEmbeddings() ? rs.longFactor() : rs.shortFactor();
            for (int i = 0; i < f.length; i++) {
                f[i] = f[i] / ext.get(i);
            }
            return f;
        }
        if (rs != null && "linear".equals(rs.type())) {
            // linear ("position interpolation"): position p is rotated as p / factor, i.e. every frequency / factor
            for (int i = 0; i < f.length; i++) {
                f[i] = f[i] / rs.factor();
            }
        } else if (rs != null && rs.type() != null && !"llama3".equals(rs.type()) && !"default".equals(rs.type())) {
            throw new IllegalArgumentException("the naive reference has no rope_scaling type " + rs.type());
        }
        if (rs != null && "llama3".equals(rs.type())) {
            double lowWave = rs.originalMaxPositionEmbeddings() / rs.lowFreqFactor();
            double highWave = rs.originalMaxPositionEmbeddings() / rs.highFreqFactor();
            for (int i = 0; i < f.length; i++) {
                double wave = 2 * Math.PI / f[i];
                if (wave < highWave) {
                    continue; // high frequency: unchanged
                } else if (wave > lowWave) {
                    f[i] = f[i] / rs.factor(); // low frequency: scaled
                } else {
                    double smooth = (rs.originalMaxPositionEmbeddings() / wave - rs.lowFreqFactor())
                            / (rs.highFreqFactor() - rs.lowFreqFactor());
                    f[i] = (1 - smooth) * f[i] / rs.factor() + smooth * f[i];
                }
            }
        }
        return f;
    }

    private static void rope(double[] x, int heads, int hd, int pos, double[] invFreq) {
        rope(x, heads, hd, pos, invFreq, hd, 1);
    }

    /** rotate_half over the first {@code rot} dimensions of each head, cos and sin times {@code scale}. */
    private static void rope(double[] x, int heads, int hd, int pos, double[] invFreq, int rot, double scale) {
        int half = rot / 2;
        for (int h = 0; h < heads; h++) {
            int b = h * hd;
            for (int i = 0; i < half; i++) {
                double a = pos * invFreq[i];
                double x1 = x[b + i];
                double x2 = x[b + i + half];
                x[b + i] = (x1 * Math.cos(a) - x2 * Math.sin(a)) * scale;
                x[b + i + half] = (x2 * Math.cos(a) + x1 * Math.sin(a)) * scale;
            }
        }
    }

    private double[] rms(double[] x, float[] weight) {
        double ss = 0;
        for (double d : x) {
            ss += d * d;
        }
        double inv = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
        return out;
    }

    private void perHeadRms(double[] x, int heads, int hd, float[] weight) {
        for (int h = 0; h < heads; h++) {
            double[] part = new double[hd];
            System.arraycopy(x, h * hd, part, 0, hd);
            System.arraycopy(rms(part, weight), 0, x, h * hd, hd);
        }
    }

    private double[] layerNorm(double[] x, float[] weight, float[] bias) {
        double mean = 0;
        for (double d : x) {
            mean += d;
        }
        mean /= x.length;
        double var = 0;
        for (double d : x) {
            var += (d - mean) * (d - mean);
        }
        var /= x.length;
        double inv = 1 / Math.sqrt(var + c.normEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - mean) * inv * weight[i] + bias[i];
        }
        return out;
    }

    /** {@code W[out, in] @ x + b}. */
    private static double[] matvec(float[] wt, int out, int in, double[] x, float[] bias) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double acc = bias == null ? 0 : bias[o];
            int base = o * in;
            for (int i = 0; i < in; i++) {
                acc += wt[base + i] * x[i];
            }
            y[o] = acc;
        }
        return y;
    }

    /** GPT-2 Conv1D: {@code x @ W[in, out] + b}. */
    private static double[] conv1d(float[] wt, int in, int out, double[] x, float[] bias) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            y[o] = bias[o];
        }
        for (int i = 0; i < in; i++) {
            int base = i * out;
            for (int o = 0; o < out; o++) {
                y[o] += x[i] * wt[base + o];
            }
        }
        return y;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
