package io.github.amulet4j.eval.reward;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.eval.judge.Tally;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The paper's metric over scored rows: per preference and method the mean reward with its 95% interval (normal
 * approximation, {@code 1.96 * sd / sqrt(n)}), and per preference the win rate of each candidate method over each
 * baseline, question by question (a tie counts a half), with its 95% Wilson interval.
 */
public final class RewardReport {

    /** 95% two-sided normal quantile. */
    public static final double Z95 = 1.959963984540054;

    /** Mean reward of one (preference, method). */
    public record Mean(String preference, String method, int n, double mean, double low, double high) {
    }

    /** Win rate of {@code candidate} over {@code baseline} for one preference. */
    public record WinRate(String preference, String candidate, String baseline, int n, double wins, double rate,
                          double low, double high) {
    }

    private final List<Mean> means;
    private final List<WinRate> winRates;

    private RewardReport(List<Mean> means, List<WinRate> winRates) {
        this.means = List.copyOf(means);
        this.winRates = List.copyOf(winRates);
    }

    /**
     * The report of {@code rewards}: preference to method to question index to reward.
     *
     * @param candidates the methods whose win rates are reported (those present), e.g. {@code amulet}
     */
    public static RewardReport of(Map<String, Map<String, Map<Integer, Double>>> rewards, List<String> candidates) {
        List<Mean> means = new ArrayList<>();
        List<WinRate> rates = new ArrayList<>();
        for (Map.Entry<String, Map<String, Map<Integer, Double>>> p : new TreeMap<>(rewards).entrySet()) {
            for (Map.Entry<String, Map<Integer, Double>> m : new TreeMap<>(p.getValue()).entrySet()) {
                means.add(mean(p.getKey(), m.getKey(), m.getValue().values()));
            }
            for (String candidate : candidates) {
                Map<Integer, Double> c = p.getValue().get(candidate);
                if (c == null) {
                    continue;
                }
                for (String baseline : new TreeSet<>(p.getValue().keySet())) {
                    if (baseline.equals(candidate)) {
                        continue;
                    }
                    Map<Integer, Double> b = p.getValue().get(baseline);
                    int n = 0;
                    double wins = 0;
                    for (Map.Entry<Integer, Double> q : c.entrySet()) {
                        Double other = b.get(q.getKey());
                        if (other == null) {
                            continue;
                        }
                        n++;
                        int cmp = Double.compare(q.getValue(), other);
                        wins += cmp > 0 ? 1 : cmp == 0 ? 0.5 : 0;
                    }
                    double rate = n == 0 ? Double.NaN : wins / n;
                    double[] ci = n == 0 ? new double[] {Double.NaN, Double.NaN} : Tally.wilson(rate, n, Z95);
                    rates.add(new WinRate(p.getKey(), candidate, baseline, n, wins, rate, ci[0], ci[1]));
                }
            }
        }
        return new RewardReport(means, rates);
    }

    private static Mean mean(String preference, String method, java.util.Collection<Double> values) {
        int n = values.size();
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        double mean = sum / n;
        double ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        double half = n > 1 ? Z95 * Math.sqrt(ss / (n - 1)) / Math.sqrt(n) : Double.NaN;
        return new Mean(preference, method, n, mean, mean - half, mean + half);
    }

    /** Mean reward per preference and method, preferences then methods in name order. */
    public List<Mean> means() {
        return means;
    }

    /** Win rates of the candidates over every other method, per preference. */
    public List<WinRate> winRates() {
        return winRates;
    }

    /** The report as a text table. */
    public String table() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%-16s %-8s %6s %10s  %s%n", "preference", "method", "n", "reward",
                "95% interval"));
        for (Mean m : means) {
            s.append(String.format(Locale.ROOT, "%-16s %-8s %6d %10.4f  [%.4f, %.4f]%n", m.preference(), m.method(),
                    m.n(), m.mean(), m.low(), m.high()));
        }
        if (!winRates.isEmpty()) {
            s.append(String.format(Locale.ROOT, "%n%-16s %-18s %6s %9s  %s%n", "preference", "win rate", "n", "rate",
                    "95% interval (ties count a half)"));
            for (WinRate w : winRates) {
                s.append(String.format(Locale.ROOT, "%-16s %-18s %6d %8.1f%%  [%.1f%%, %.1f%%]%n", w.preference(),
                        w.candidate() + " > " + w.baseline(), w.n(), 100 * w.rate(), 100 * w.low(), 100 * w.high()));
            }
        }
        return s.toString();
    }

    /** The report as JSON: {@code means} and {@code win_rates}. */
    public JsonObject json() {
        JsonObject o = new JsonObject();
        JsonArray ms = new JsonArray();
        for (Mean m : means) {
            JsonObject j = new JsonObject();
            j.addProperty("preference", m.preference());
            j.addProperty("method", m.method());
            j.addProperty("n", m.n());
            j.addProperty("mean", m.mean());
            j.addProperty("low", m.low());
            j.addProperty("high", m.high());
            ms.add(j);
        }
        o.add("means", ms);
        JsonArray ws = new JsonArray();
        for (WinRate w : winRates) {
            JsonObject j = new JsonObject();
            j.addProperty("preference", w.preference());
            j.addProperty("candidate", w.candidate());
            j.addProperty("baseline", w.baseline());
            j.addProperty("n", w.n());
            j.addProperty("wins", w.wins());
            j.addProperty("rate", w.rate());
            j.addProperty("low", w.low());
            j.addProperty("high", w.high());
            ws.add(j);
        }
        o.add("win_rates", ws);
        return o;
    }
}
