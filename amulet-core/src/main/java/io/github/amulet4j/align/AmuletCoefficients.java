package io.github.amulet4j.align;

import java.util.Objects;

/**
 * The scalar recursion of ALGORITHM.md section 3: every Amulet iterate is
 * {@code x_k = a_k * p + b_k * r + c_k}, so the whole T-iteration loop reduces to two numbers
 * {@code a_T}, {@code b_T} computed without touching the vocabulary. {@code a_k + b_k = 1}, hence the
 * result is {@code p + gamma * (p - r)} with {@code gamma = a_T - 1}.
 *
 * @param a     weight of the preference log-probabilities {@code p}
 * @param b     weight of the base log-probabilities {@code r}
 */
public record AmuletCoefficients(double a, double b) {

    /** Runs the recursion for {@code params}. */
    public static AmuletCoefficients of(AmuletParameters params) {
        Objects.requireNonNull(params, "params");
        double lambda = params.lambda();
        double alpha = params.alpha();
        double eta = params.eta();
        double aPrev = 1.0; // a_0
        double bPrev = 0.0; // b_0
        double sumA = 0.0;  // sum_{j<k} a_j
        double sumB1 = 0.0; // sum_{j<k} (b_j - 1)
        for (int k = 1; k <= params.iterations(); k++) {
            sumA += aPrev;
            sumB1 += bPrev - 1.0;
            double inv = 1.0 / (eta * k);
            double d = lambda + inv;
            double a = (lambda + (alpha / k) * sumA + aPrev * inv) / d;
            double b = ((alpha / k) * sumB1 + bPrev * inv) / d;
            aPrev = a;
            bPrev = b;
        }
        return new AmuletCoefficients(aPrev, bPrev);
    }

    /** {@code a_T - 1}: the equivalent linear-alignment ratio on log-probabilities. */
    public double gamma() {
        return a - 1.0;
    }
}
