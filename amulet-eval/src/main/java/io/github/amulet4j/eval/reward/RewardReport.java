package io.github.amulet4j.eval.reward;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.eval.judge.Outcome;
import io.github.amulet4j.eval.judge.Tally;
import io.github.amulet4j.eval.judge.WinRateChart;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The paper's metric over scored rows: per preference and method the mean reward with its 95% interval (normal
 * approximation, {@code 1.96 * sd / sqrt(n)}), and per preference the win rate of each candidate method over each
 * baseline, question by question (a tie counts a half), with its 95% Wilson interval, and the same over all
 * preferences; as a table, as JSON and as an SVG chart ({@link WinRateChart}, as {@code judge} draws).
 */
public final class RewardReport {

    /** 95% two-sided normal quantile. */
    public static final double Z95 = 1.959963984540054;

    /** Mean reward of one (preference, method). */
    public record Mean(String preference, String method, int n, double mean, double low, double high) {
    }

    /**
     * Win rate of {@code candidate} over {@code baseline} for one preference ({@link #OVERALL} for all): per question
     * the candidate's reward higher (a win), equal (a tie) or lower (a loss) than the baseline's.
     */
    public record WinRate(String preference, String candidate, String baseline, Tally tally) {
        /** Questions compared. */
        public int n() {
            return tally.n();
        }

        /** {@code (wins + ties / 2) / n}, NaN without questions. */
        public double rate() {
            return tally.winRate();
        }

        /** Lower end of the 95% Wilson interval. */
        public double low() {
            return tally.ciLow();
        }

        /** Upper end of the 95% Wilson interval. */
        public double high() {
            return tally.ciHigh();
        }
    }

    /** The preference name of the win rates over all preferences. */
    public static final String OVERALL = "overall";

    private final List<Mean> means;
    private final List<WinRate> winRates;
    private final List<WinRate> overall;

    private RewardReport(List<Mean> means, List<WinRate> winRates, List<WinRate> overall) {
        this.means = List.copyOf(means);
        this.winRates = List.copyOf(winRates);
        this.overall = List.copyOf(overall);
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
                    Tally t = Tally.EMPTY;
                    for (Map.Entry<Integer, Double> q : c.entrySet()) {
                        Double other = b.get(q.getKey());
                        if (other != null) {
                            int cmp = Double.compare(q.getValue(), other);
                            t = t.plus(cmp > 0 ? Outcome.WIN : cmp == 0 ? Outcome.TIE : Outcome.LOSS);
                        }
                    }
                    rates.add(new WinRate(p.getKey(), candidate, baseline, t));
                }
            }
        }
        Map<String, WinRate> pairs = new LinkedHashMap<>();
        for (WinRate w : rates) {
            pairs.merge(w.candidate() + "\u0000" + w.baseline(), new WinRate(OVERALL, w.candidate(), w.baseline(),
                    w.tally()), (x, y) -> new WinRate(OVERALL, x.candidate(), x.baseline(), x.tally().plus(y.tally())));
        }
        return new RewardReport(means, rates, new ArrayList<>(pairs.values()));
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

    /** Win rates of the candidates over every other method, all preferences together. */
    public List<WinRate> overall() {
        return overall;
    }

    /** The win rates as an SVG bar chart, one panel per (candidate, baseline). */
    public String chart(String subtitle) {
        List<WinRateChart.Panel> panels = new ArrayList<>();
        for (WinRate o : overall) {
            List<WinRateChart.Bar> bars = new ArrayList<>();
            for (WinRate w : winRates) {
                if (w.candidate().equals(o.candidate()) && w.baseline().equals(o.baseline())) {
                    bars.add(new WinRateChart.Bar(w.preference(), w.tally()));
                }
            }
            panels.add(new WinRateChart.Panel(o.candidate(), o.baseline(), bars, o.tally()));
        }
        return WinRateChart.svg(new WinRateChart.Labels(
                "Reward model: how often the candidate's answer scores higher, question by question", subtitle,
                "candidate's reward higher", "equal rewards", "baseline's reward higher"), panels);
    }

    /**
     * The paper's table: a row per preference, a column per method in {@code methods} order (others after, by name),
     * each cell the mean reward and the half-width of its 95% interval; then per candidate and baseline the win rate
     * over all preferences, with wins/ties/losses and its interval.
     */
    public String paperTable(List<String> methods) {
        List<String> columns = new ArrayList<>();
        for (String m : methods) {
            if (means.stream().anyMatch(x -> x.method().equals(m))) {
                columns.add(m);
            }
        }
        means.stream().map(Mean::method).filter(m -> !columns.contains(m)).sorted().distinct().forEach(columns::add);
        Map<String, Map<String, Mean>> byPreference = new LinkedHashMap<>();
        for (Mean m : means) {
            byPreference.computeIfAbsent(m.preference(), k -> new LinkedHashMap<>()).put(m.method(), m);
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-14s", "preference"));
        for (String c : columns) {
            s.append(String.format(Locale.ROOT, " %17s", c));
        }
        s.append('\n');
        for (Map.Entry<String, Map<String, Mean>> p : byPreference.entrySet()) {
            s.append(String.format(Locale.ROOT, "%-14s", p.getKey()));
            double best = p.getValue().values().stream().mapToDouble(Mean::mean).max().orElse(Double.NaN);
            for (String c : columns) {
                Mean m = p.getValue().get(c);
                s.append(m == null ? String.format(Locale.ROOT, " %17s", "-")
                        : String.format(Locale.ROOT, " %1s%8.4f \u00b1%6.4f", m.mean() == best ? "*" : "", m.mean(),
                        Double.isNaN(m.high()) ? 0.0 : m.high() - m.mean()));
            }
            s.append('\n');
        }
        s.append("(mean reward \u00b1 half of its 95% interval; * the best method of the preference)\n");
        for (WinRate w : overall) {
            Tally t = w.tally();
            s.append(String.format(Locale.ROOT, "%s over %s: %.1f%% [%.1f%%, %.1f%%] of %d questions x preferences "
                    + "(wins/ties/losses %d/%d/%d)%n", w.candidate(), w.baseline(), 100 * w.rate(), 100 * w.low(),
                    100 * w.high(), w.n(), t.wins(), t.ties(), t.losses()));
        }
        return s.toString();
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
            s.append(String.format(Locale.ROOT, "%n%-16s %-18s %6s %14s %9s  %s%n", "preference", "win rate", "n",
                    "wins/ties/loss", "rate", "95% interval (ties count a half)"));
            List<WinRate> all = new ArrayList<>(winRates);
            all.addAll(overall);
            for (WinRate w : all) {
                Tally t = w.tally();
                s.append(String.format(Locale.ROOT, "%-16s %-18s %6d %14s %8.1f%%  [%.1f%%, %.1f%%]%n",
                        w.preference(), w.candidate() + " > " + w.baseline(), w.n(),
                        t.wins() + "/" + t.ties() + "/" + t.losses(), 100 * w.rate(), 100 * w.low(), 100 * w.high()));
            }
        }
        return s.toString();
    }

    /**
     * The report as JSON: {@code means} ({@code preference, method, n, mean, low, high}), {@code win_rates} per
     * preference and {@code overall} ({@code preference, candidate, baseline, n, wins, ties, losses, rate, low, high};
     * rates as fractions, null without questions).
     */
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
        o.add("win_rates", json(winRates));
        o.add("overall", json(overall));
        return o;
    }

    private static JsonArray json(List<WinRate> rates) {
        JsonArray ws = new JsonArray();
        for (WinRate w : rates) {
            JsonObject j = new JsonObject();
            j.addProperty("preference", w.preference());
            j.addProperty("candidate", w.candidate());
            j.addProperty("baseline", w.baseline());
            j.addProperty("n", w.n());
            j.addProperty("wins", w.tally().wins());
            j.addProperty("ties", w.tally().ties());
            j.addProperty("losses", w.tally().losses());
            j.addProperty("rate", w.n() == 0 ? null : w.rate());
            j.addProperty("low", w.n() == 0 ? null : w.low());
            j.addProperty("high", w.n() == 0 ? null : w.high());
            ws.add(j);
        }
        return ws;
    }
}
