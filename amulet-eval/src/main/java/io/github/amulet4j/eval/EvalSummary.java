package io.github.amulet4j.eval;

import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The table printed at the end of an eval run: per method, the number of rows, the mean number of new
 * tokens and the decoding speed (total new tokens over total seconds). A row with {@value #COPY_OF} (a {@code base}
 * row recorded for another preference, generated once per question) counts as a row but not in the means and
 * speeds, so that each generation is counted once.
 */
public final class EvalSummary {

    /** The field of a row copied from another row of the same question (it names that row's preference). */
    public static final String COPY_OF = "copy_of";

    /**
     * Totals of one method.
     *
     * @param rows      rows of the method, copies included
     * @param generated rows that were generated (not copies); new tokens and seconds are theirs
     */
    public record MethodTotals(String method, int rows, int generated, long newTokens, double seconds) {

        /** Mean new tokens per generated row. */
        public double meanNewTokens() {
            return generated == 0 ? 0 : (double) newTokens / generated;
        }

        /** New tokens per second over all rows (0 when no time was measured). */
        public double tokensPerSecond() {
            return seconds > 0 ? newTokens / seconds : 0;
        }
    }

    private final Map<String, MethodTotals> totals;

    private EvalSummary(Map<String, MethodTotals> totals) {
        this.totals = totals;
    }

    /** Sums result rows (objects with {@code method}, {@code new_tokens} and {@code seconds}) per method, in first-seen order. */
    public static EvalSummary of(List<JsonObject> rows) {
        Map<String, MethodTotals> totals = new LinkedHashMap<>();
        for (JsonObject row : rows) {
            String method = row.get("method").getAsString();
            boolean copy = row.has(COPY_OF);
            long tokens = !copy && row.has("new_tokens") ? row.get("new_tokens").getAsLong() : 0;
            double seconds = !copy && row.has("seconds") ? row.get("seconds").getAsDouble() : 0;
            totals.merge(method, new MethodTotals(method, 1, copy ? 0 : 1, tokens, seconds),
                    (a, b) -> new MethodTotals(a.method(), a.rows() + b.rows(), a.generated() + b.generated(),
                            a.newTokens() + b.newTokens(), a.seconds() + b.seconds()));
        }
        return new EvalSummary(totals);
    }

    /** Totals per method, in first-seen order. */
    public List<MethodTotals> methods() {
        return List.copyOf(totals.values());
    }

    /** The table as text, one line per method after a header. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-8s %6s %16s %10s%n", "method", "rows", "mean new tokens", "tokens/s"));
        for (MethodTotals t : totals.values()) {
            sb.append(String.format(Locale.ROOT, "%-8s %6d %16.1f %10.2f%n", t.method(), t.rows(), t.meanNewTokens(),
                    t.tokensPerSecond()));
        }
        return sb.toString();
    }
}
