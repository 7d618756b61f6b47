package io.github.amulet4j.formats.checkpoint;

/**
 * Rotary inverse frequencies of a config, as Hugging Face computes them: {@code 1 / theta^(2i/d)} in
 * float32, remapped for {@code rope_scaling} of type {@code llama3} (low / medium / high frequency bands,
 * as in transformers' {@code _compute_llama3_parameters}) or {@code linear} (divided by the factor), over the
 * rotary dimensions of a head ({@link ModelConfig#rotaryDim()}); for {@code longrope} the short-sequence frequencies
 * of {@link LongRope}, which also has the long ones.
 */
public final class RotaryFrequencies {

    private RotaryFrequencies() {
    }

    /**
     * The {@code rotaryDim / 2} inverse frequencies.
     *
     * @throws IllegalArgumentException for a rope_scaling type other than default, linear, llama3 or longrope
     */
    public static float[] inverseFrequencies(ModelConfig config) {
        if (LongRope.applies(config)) {
            return LongRope.of(config).shortInverseFrequencies();
        }
        int dim = config.rotaryDim();
        int half = dim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = (float) (1.0 / (float) Math.pow(config.ropeTheta(), exponent));
        }
        ModelConfig.RopeScaling s = config.ropeScaling();
        if (s == null || s.type() == null || "default".equals(s.type())) {
            return inv;
        }
        switch (s.type()) {
            case "linear" -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = (float) (inv[i] / s.factor());
                }
                return inv;
            }
            case "llama3" -> {
                return llama3(inv, s);
            }
            default -> throw new IllegalArgumentException("unsupported rope_scaling type '" + s.type()
                    + "' in " + config.architecture() + " config; supported: default, linear, llama3, longrope");
        }
    }

    /**
     * The inverse frequencies of Gemma 3's sliding layers, {@code 1 / localTheta^(2i/d)} with no scaling
     * ({@link GemmaConfig#localRopeTheta}); null when every layer uses {@link #inverseFrequencies}.
     */
    public static float[] localInverseFrequencies(ModelConfig config) {
        if (config.gemma() == null || config.gemma().localRopeTheta() == null) {
            return null;
        }
        int dim = config.rotaryDim();
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = (float) (1.0 / (float) Math.pow(config.gemma().localRopeTheta(), exponent));
        }
        return inv;
    }

    private static float[] llama3(float[] inv, ModelConfig.RopeScaling s) {
        double factor = s.factor();
        double low = s.lowFreqFactor();
        double high = s.highFreqFactor();
        double old = s.originalMaxPositionEmbeddings();
        if (!(factor > 0) || !(high > low) || !(old > 0)) {
            throw new IllegalArgumentException("llama3 rope_scaling needs factor > 0, high_freq_factor > low_freq_factor "
                    + "and original_max_position_embeddings > 0, got " + s);
        }
        double lowFreqWavelen = old / low;
        double highFreqWavelen = old / high;
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double f = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                double smooth = (old / wavelen - low) / (high - low);
                f = (1 - smooth) * f / factor + smooth * f;
            }
            out[i] = (float) f;
        }
        return out;
    }
}
