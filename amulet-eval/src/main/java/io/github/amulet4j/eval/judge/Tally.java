package io.github.amulet4j.eval.judge;

/**
 * Counts of comparisons and the win rate they give, with ties as half a win (AlpacaEval's definition):
 * {@code (wins + ties / 2) / (wins + ties + losses)}; unparsable comparisons are counted but left out.
 *
 * <p>The 95% interval is Wilson's score interval for that rate with {@code n = wins + ties + losses}, each
 * comparison one trial. With ties it is conservative: a tie scores 1/2 with no variance, so the true spread of the
 * score is smaller than the binomial one the interval assumes.
 */
public record Tally(int wins, int ties, int losses, int unparsable) {

    /** z for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    public static final Tally EMPTY = new Tally(0, 0, 0, 0);

    public Tally {
        if (wins < 0 || ties < 0 || losses < 0 || unparsable < 0) {
            throw new IllegalArgumentException("counts must be >= 0");
        }
    }

    /** One more outcome (pending ones change nothing). */
    public Tally plus(Outcome o) {
        return switch (o) {
            case WIN -> new Tally(wins + 1, ties, losses, unparsable);
            case TIE -> new Tally(wins, ties + 1, losses, unparsable);
            case LOSS -> new Tally(wins, ties, losses + 1, unparsable);
            case UNPARSABLE -> new Tally(wins, ties, losses, unparsable + 1);
            case PENDING -> this;
        };
    }

    public Tally plus(Tally t) {
        return new Tally(wins + t.wins, ties + t.ties, losses + t.losses, unparsable + t.unparsable);
    }

    /** Comparisons in the rate. */
    public int n() {
        return wins + ties + losses;
    }

    /** The win rate with ties as half, or NaN when {@link #n()} is 0. */
    public double winRate() {
        return n() == 0 ? Double.NaN : (wins + 0.5 * ties) / n();
    }

    /** Lower end of the 95% Wilson interval, or NaN when {@link #n()} is 0. */
    public double ciLow() {
        return wilson(winRate(), n(), Z95)[0];
    }

    /** Upper end of the 95% Wilson interval, or NaN when {@link #n()} is 0. */
    public double ciHigh() {
        return wilson(winRate(), n(), Z95)[1];
    }

    /** Wilson's score interval {@code [low, high]} for a proportion {@code p} of {@code n} trials. */
    public static double[] wilson(double p, int n, double z) {
        if (n == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double z2 = z * z;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denominator;
        double half = z / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
