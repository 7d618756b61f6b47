package io.github.amulet4j.djl;

import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;

import java.util.Arrays;

/**
 * ArmoRM's head ({@code LlamaForRewardModelWithGating}) over final-norm hidden states: the regression layer gives one
 * reward per objective from the hidden state of the scored token; the gating network (ReLU layers, a softmax at its
 * temperature, times {@code logit_scale}) gives a weight per objective from the hidden state at the start of the last
 * assistant header; the score is the weighted sum of the rewards times {@code reward_transform_matrix}.
 */
final class GatedRewardHead {

    private final int objectives;
    private final int hidden;
    private final float[] regression;
    private final float[][] weights;
    private final float[][] biases;
    private final int[] outs;
    private final float logitScale;
    private final float[] transform;
    private final double temperature;

    private GatedRewardHead(int objectives, int hidden, float[] regression, float[][] weights, float[][] biases,
                            int[] outs, float logitScale, float[] transform, double temperature) {
        this.objectives = objectives;
        this.hidden = hidden;
        this.regression = regression;
        this.weights = weights;
        this.biases = biases;
        this.outs = outs;
        this.logitScale = logitScale;
        this.transform = transform;
        this.temperature = temperature;
    }

    /** Reads the head's tensors, checking each shape; {@code checkpoint} names the model in messages. */
    static GatedRewardHead read(ClassifierConfig config, TensorStore store, String checkpoint) {
        ClassifierConfig.Gating g = config.gating();
        int h = config.body().hiddenSize();
        int n = config.numLabels();
        float[] regression = tensor(store, checkpoint, "regression_layer.weight", n, h);
        int layers = g.nHidden() + 1;
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        int[] outs = new int[layers];
        int in = h;
        for (int i = 0; i < layers; i++) {
            int out = i < g.nHidden() ? g.hiddenDim() : n;
            w[i] = tensor(store, checkpoint, "gating.layers." + i + ".weight", out, in);
            b[i] = tensor(store, checkpoint, "gating.layers." + i + ".bias", out);
            outs[i] = out;
            in = out;
        }
        float scale = tensor(store, checkpoint, "gating.logit_scale", 1)[0];
        float[] transform = tensor(store, checkpoint, "reward_transform_matrix", n, n);
        return new GatedRewardHead(n, h, regression, w, b, outs, scale, transform, g.temperature());
    }

    private static float[] tensor(TensorStore store, String checkpoint, String name, long... shape) {
        if (!store.contains(name)) {
            throw new IllegalArgumentException(checkpoint + ": missing tensor '" + name + "' of shape "
                    + Arrays.toString(shape) + " (ArmoRM's head)");
        }
        if (!Arrays.equals(shape, store.shape(name))) {
            throw new IllegalArgumentException(checkpoint + ": tensor '" + name + "' has shape "
                    + Arrays.toString(store.shape(name)) + ", expected " + Arrays.toString(shape));
        }
        return store.readFloat32(name);
    }

    /** The rewards per objective from the scored token's hidden state. */
    float[] rewards(float[] scored) {
        float[] r = new float[objectives];
        for (int k = 0; k < objectives; k++) {
            double s = 0;
            for (int j = 0; j < hidden; j++) {
                s += (double) regression[k * hidden + j] * scored[j];
            }
            r[k] = (float) s;
        }
        return r;
    }

    /** The gated score of {@code rewards} with the gate read from {@code gate}, the hidden state at the header. */
    float score(float[] rewards, float[] gate) {
        float[] x = gate;
        for (int i = 0; i < weights.length; i++) {
            int in = x.length;
            float[] y = new float[outs[i]];
            for (int o = 0; o < y.length; o++) {
                double s = biases[i][o];
                for (int j = 0; j < in; j++) {
                    s += (double) weights[i][o * in + j] * x[j];
                }
                y[o] = i < weights.length - 1 ? (float) Math.max(0, s) : (float) s;
            }
            x = y;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v / temperature);
        }
        double sum = 0;
        double[] p = new double[objectives];
        for (int k = 0; k < objectives; k++) {
            p[k] = Math.exp(x[k] / temperature - max);
            sum += p[k];
        }
        double score = 0;
        for (int k = 0; k < objectives; k++) {
            double adjusted = 0; // (rewards @ transform)[k]
            for (int j = 0; j < objectives; j++) {
                adjusted += (double) rewards[j] * transform[j * objectives + k];
            }
            score += p[k] / sum * logitScale * adjusted;
        }
        return (float) score;
    }
}
