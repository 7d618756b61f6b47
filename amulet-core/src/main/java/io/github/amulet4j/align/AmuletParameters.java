package io.github.amulet4j.align;

/**
 * Hyperparameters of the Amulet per-token online-learning step (ALGORITHM.md section 2): iterations
 * {@code T}, learning rate {@code eta}, reward scale {@code alpha} and regulariser {@code lambda}.
 * Immutable; the defaults are the paper's (T=60, eta=10, alpha=2, lambda=2).
 */
public final class AmuletParameters {

    /** The paper's settings. */
    public static final AmuletParameters PAPER_DEFAULTS = builder().build();

    private final int iterations;
    private final double eta;
    private final double alpha;
    private final double lambda;

    private AmuletParameters(Builder b) {
        if (b.iterations < 1) {
            throw new IllegalArgumentException("iterations (T) must be >= 1, got " + b.iterations);
        }
        requireFinite("eta", b.eta);
        requireFinite("alpha", b.alpha);
        requireFinite("lambda", b.lambda);
        if (b.eta <= 0) {
            throw new IllegalArgumentException("eta (learning rate) must be > 0, got " + b.eta);
        }
        if (b.alpha < 0) {
            throw new IllegalArgumentException("alpha (reward scale) must be >= 0, got " + b.alpha);
        }
        if (b.lambda < 0) {
            throw new IllegalArgumentException("lambda (regulariser) must be >= 0, got " + b.lambda);
        }
        this.iterations = b.iterations;
        this.eta = b.eta;
        this.alpha = b.alpha;
        this.lambda = b.lambda;
    }

    private static void requireFinite(String name, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + v);
        }
    }

    /** A builder starting from the paper's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        return new Builder().iterations(iterations).eta(eta).alpha(alpha).lambda(lambda);
    }

    /** Number of online-learning iterations {@code T} (paper: 60). */
    public int iterations() {
        return iterations;
    }

    /** Learning rate {@code eta} (paper: 10). */
    public double eta() {
        return eta;
    }

    /** Reward scale {@code alpha} (paper: 2). */
    public double alpha() {
        return alpha;
    }

    /** Regulariser weight {@code lambda} (paper: 2). */
    public double lambda() {
        return lambda;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AmuletParameters p && p.iterations == iterations && p.eta == eta
                && p.alpha == alpha && p.lambda == lambda;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(iterations, eta, alpha, lambda);
    }

    @Override
    public String toString() {
        return "AmuletParameters[T=" + iterations + ", eta=" + eta + ", alpha=" + alpha + ", lambda=" + lambda + "]";
    }

    /** Builder of {@link AmuletParameters}; validation happens in {@link #build()}. */
    public static final class Builder {
        private int iterations = 60;
        private double eta = 10.0;
        private double alpha = 2.0;
        private double lambda = 2.0;

        private Builder() {
        }

        public Builder iterations(int t) {
            this.iterations = t;
            return this;
        }

        public Builder eta(double eta) {
            this.eta = eta;
            return this;
        }

        public Builder alpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        public Builder lambda(double lambda) {
            this.lambda = lambda;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid field */
        public AmuletParameters build() {
            return new AmuletParameters(this);
        }
    }
}
