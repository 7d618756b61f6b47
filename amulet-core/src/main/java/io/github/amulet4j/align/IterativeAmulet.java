package io.github.amulet4j.align;

import java.util.Objects;

/**
 * The Amulet step exactly as the paper writes it (ALGORITHM.md section 2): {@code T} iterations of the
 * closed-form FTRL update, each followed by a {@code log_softmax}. Costs O(T x V) per token; kept for
 * fidelity and as the starting point for variants whose utility is not linear. Computes in double and
 * writes {@code y_T} shifted by its maximum (a constant, so the distribution is the same).
 *
 * <p>Tokens that are {@code -inf} in either stream are outside the support: they are written as
 * {@code -inf} and every {@code log_softmax} of an iterate runs over the remaining tokens only (which
 * is what the masks mean and keeps {@code -inf - -inf} out of the loop).
 */
public final class IterativeAmulet implements AlignmentStep {

    private final AmuletParameters params;

    public IterativeAmulet(AmuletParameters params) {
        this.params = Objects.requireNonNull(params, "params");
    }

    /** With the paper's defaults. */
    public IterativeAmulet() {
        this(AmuletParameters.PAPER_DEFAULTS);
    }

    public AmuletParameters parameters() {
        return params;
    }

    @Override
    public void apply(float[] pref, int prefOff, float[] base, int baseOff, float[] out, int outOff, int vocab) {
        StepChecks.checkRange(PREFERENCE_STREAM, pref, prefOff, vocab);
        StepChecks.checkRange(BASE_STREAM, base, baseOff, vocab);
        StepChecks.checkRange("output", out, outOff, vocab);
        // Support: tokens finite in both streams.
        int[] support = new int[vocab];
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            float pv = pref[prefOff + i];
            float rv = base[baseOff + i];
            StepChecks.checkValue(PREFERENCE_STREAM, pv, i);
            StepChecks.checkValue(BASE_STREAM, rv, i);
            if (pv != Float.NEGATIVE_INFINITY && rv != Float.NEGATIVE_INFINITY) {
                support[n++] = i;
            }
        }
        if (n == 0) {
            throw StepChecks.allMasked("base and preference");
        }
        double[] p = logSoftmaxOverSupport(pref, prefOff, support, n);
        double[] r = logSoftmaxOverSupport(base, baseOff, support, n);

        final double lambda = params.lambda();
        final double alpha = params.alpha();
        final double eta = params.eta();
        double[] x = p.clone();          // x_0 = p
        double[] sumQ = new double[n];   // sum_{j<=k} Q_j
        double[] y = new double[n];
        for (int k = 1; k <= params.iterations(); k++) {
            double inv = 1.0 / (eta * k);
            double denom = lambda + inv;
            for (int i = 0; i < n; i++) {
                double q = alpha * (x[i] - r[i]);                     // Q_k = alpha (x_{k-1} - r)
                sumQ[i] += q;
                y[i] = (lambda * p[i] + sumQ[i] / k + x[i] * inv) / denom; // FTRL step
            }
            logSoftmax(y, x, n);                                        // x_k = log_softmax(y_k)
        }
        for (int i = 0; i < vocab; i++) {
            out[outOff + i] = Float.NEGATIVE_INFINITY;
        }
        double maxY = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            maxY = Math.max(maxY, y[i]);
        }
        for (int i = 0; i < n; i++) { // shifted so that float keeps the top of the distribution exact
            out[outOff + support[i]] = (float) (y[i] - maxY);
        }
    }

    /** log_softmax of the whole row's finite entries, read at the support positions. */
    private static double[] logSoftmaxOverSupport(float[] row, int off, int[] support, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = row[off + support[i]];
        }
        double[] res = new double[n];
        logSoftmax(v, res, n);
        return res;
    }

    static void logSoftmax(double[] in, double[] out, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, in[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(in[i] - max);
        }
        double lse = max + Math.log(sum);
        for (int i = 0; i < n; i++) {
            out[i] = in[i] - lse;
        }
    }

    @Override
    public boolean readsPreference() {
        return true;
    }

    @Override
    public boolean readsBase() {
        return true;
    }

    @Override
    public String toString() {
        return "IterativeAmulet[" + params + "]";
    }
}
