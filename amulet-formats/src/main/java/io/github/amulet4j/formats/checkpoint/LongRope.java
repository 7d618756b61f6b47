package io.github.amulet4j.formats.checkpoint;

import java.util.List;

/**
 * Phi-3's {@code longrope} rotary scaling (older name {@code su}), as transformers computes it
 * ({@code _compute_longrope_parameters}): the inverse frequencies {@code 1 / (ext_i * theta^(2i/d))} over the rotary
 * dimensions {@code d} ({@link ModelConfig#rotaryDim()}), with {@code ext} the {@code short_factor} list while a
 * sequence fits {@code original_max_position_embeddings} and the {@code long_factor} list beyond it, and an attention
 * factor that multiplies cos and sin: {@code attention_factor} when configured, else
 * {@code sqrt(1 + ln(factor) / ln(original))} with {@code factor = max_position_embeddings / original} (1 when the
 * factor is at most 1).
 *
 * <p>Which list a sequence uses depends on its whole length: a sequence of at most {@link #switchLength()} tokens is
 * rotated with the short factors, a longer one with the long factors at every position, the earliest included.
 */
public final class LongRope {

    private final float[] shortInverse;
    private final float[] longInverse;
    private final float attentionFactor;
    private final int switchLength;

    private LongRope(float[] shortInverse, float[] longInverse, float attentionFactor, int switchLength) {
        this.shortInverse = shortInverse;
        this.longInverse = longInverse;
        this.attentionFactor = attentionFactor;
        this.switchLength = switchLength;
    }

    /** Whether {@code config} uses longrope scaling. */
    public static boolean applies(ModelConfig config) {
        return config.ropeScaling() != null && config.ropeScaling().isLongRope();
    }

    /**
     * The longrope parameters of {@code config}.
     *
     * @throws IllegalArgumentException when the config has no longrope scaling, a factor list whose length is not
     *                                  {@code rotaryDim / 2}, a factor that is not positive, or no original length
     */
    public static LongRope of(ModelConfig config) {
        ModelConfig.RopeScaling s = config.ropeScaling();
        if (s == null || !s.isLongRope()) {
            throw new IllegalArgumentException(config.architecture() + " config has no longrope rope_scaling");
        }
        int dim = config.rotaryDim();
        int original = s.originalMaxPositionEmbeddings();
        if (original <= 0) {
            throw new IllegalArgumentException("longrope needs original_max_position_embeddings > 0, got " + original);
        }
        float[] shortInverse = inverse(config.ropeTheta(), dim, s.shortFactor(), "short_factor");
        float[] longInverse = inverse(config.ropeTheta(), dim, s.longFactor(), "long_factor");
        double attention;
        if (s.attentionFactor() != null) {
            attention = s.attentionFactor();
        } else {
            double factor = (double) config.maxPositions() / original;
            attention = factor <= 1.0 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
        }
        return new LongRope(shortInverse, longInverse, (float) attention, original);
    }

    private static float[] inverse(double theta, int dim, List<Double> factors, String field) {
        int half = dim / 2;
        if (factors.size() != half) {
            throw new IllegalArgumentException("longrope " + field + " has " + factors.size()
                    + " entries; expected rotary dimensions / 2 = " + half);
        }
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            double ext = factors.get(i);
            if (!(ext > 0) || !Double.isFinite(ext)) {
                throw new IllegalArgumentException("longrope " + field + "[" + i + "] must be a positive number, got "
                        + ext);
            }
            float exponent = (float) (2 * i) / dim;
            float base = (float) Math.pow(theta, exponent);
            inv[i] = 1f / ((float) ext * base);
        }
        return inv;
    }

    /** The inverse frequencies with the short factors (a sequence of at most {@link #switchLength()} tokens). */
    public float[] shortInverseFrequencies() {
        return shortInverse.clone();
    }

    /** The inverse frequencies with the long factors (a longer sequence). */
    public float[] longInverseFrequencies() {
        return longInverse.clone();
    }

    /** The inverse frequencies for a sequence of {@code length} tokens: long beyond {@link #switchLength()}. */
    public float[] inverseFrequencies(int length) {
        return (length > switchLength ? longInverse : shortInverse).clone();
    }

    /** The factor that multiplies cos and sin. */
    public float attentionFactor() {
        return attentionFactor;
    }

    /** {@code original_max_position_embeddings}: the longest sequence rotated with the short factors. */
    public int switchLength() {
        return switchLength;
    }

    /**
     * The length beyond which {@code config}'s rotation of a position changes with the sequence's length (longrope's
     * {@link #switchLength()}), or {@link Integer#MAX_VALUE} for every other rotary scaling, whose rotation of a
     * position never changes.
     */
    public static int switchLength(ModelConfig config) {
        return applies(config) ? config.ropeScaling().originalMaxPositionEmbeddings() : Integer.MAX_VALUE;
    }
}
