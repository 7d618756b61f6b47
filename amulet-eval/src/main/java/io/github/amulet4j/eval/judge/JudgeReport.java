package io.github.amulet4j.eval.judge;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Win, tie and loss counts per (candidate, baseline, preference) and overall per (candidate, baseline), with the
 * win rate (ties as half) and its 95% Wilson interval ({@link Tally}); as a table, as JSON, and for the chart.
 */
public final class JudgeReport {

    /**
     * One line of the report.
     *
     * @param preference the preference, or {@code null} for a pair's overall line
     */
    public record Line(String candidate, String baseline, String preference, Tally tally) {
    }

    private final List<Line> byPreference;
    private final List<Line> overall;
    private final int pending;

    private JudgeReport(List<Line> byPreference, List<Line> overall, int pending) {
        this.byPreference = List.copyOf(byPreference);
        this.overall = List.copyOf(overall);
        this.pending = pending;
    }

    /**
     * The report of these comparisons from these judgements; pairs and preferences in first-seen order.
     */
    public static JudgeReport of(List<Comparison> comparisons, Map<JudgementKey, Judgement> judgements) {
        Map<List<String>, Map<String, Tally>> tallies = new LinkedHashMap<>();
        int pending = 0;
        for (Comparison c : comparisons) {
            Outcome o = Outcome.of(c.candidate().method(), judgements.get(c.candidateFirst()),
                    judgements.get(c.baselineFirst()));
            if (o == Outcome.PENDING) {
                pending++;
            }
            tallies.computeIfAbsent(List.of(c.candidate().method(), c.baseline().method()), k -> new LinkedHashMap<>())
                    .merge(c.preference(), Tally.EMPTY.plus(o), Tally::plus);
        }
        List<Line> lines = new ArrayList<>();
        List<Line> overall = new ArrayList<>();
        for (Map.Entry<List<String>, Map<String, Tally>> pair : tallies.entrySet()) {
            String candidate = pair.getKey().get(0);
            String baseline = pair.getKey().get(1);
            Tally sum = Tally.EMPTY;
            for (Map.Entry<String, Tally> p : pair.getValue().entrySet()) {
                lines.add(new Line(candidate, baseline, p.getKey(), p.getValue()));
                sum = sum.plus(p.getValue());
            }
            overall.add(new Line(candidate, baseline, null, sum));
        }
        return new JudgeReport(lines, overall, pending);
    }

    /** Lines per (candidate, baseline, preference). */
    public List<Line> byPreference() {
        return byPreference;
    }

    /** One line per (candidate, baseline), summed over preferences. */
    public List<Line> overall() {
        return overall;
    }

    /** Comparisons with an order not judged yet (left out of every count). */
    public int pending() {
        return pending;
    }

    /** The report as one JSON object: {@code pairs} (per preference) and {@code overall} (per pair). */
    public JsonObject json() {
        JsonObject root = new JsonObject();
        JsonArray pairs = new JsonArray();
        byPreference.forEach(l -> pairs.add(json(l)));
        JsonArray all = new JsonArray();
        overall.forEach(l -> all.add(json(l)));
        root.add("pairs", pairs);
        root.add("overall", all);
        return root;
    }

    private static JsonObject json(Line l) {
        JsonObject o = new JsonObject();
        o.addProperty("candidate", l.candidate());
        o.addProperty("baseline", l.baseline());
        if (l.preference() != null) {
            o.addProperty("preference", l.preference());
        }
        Tally t = l.tally();
        o.addProperty("wins", t.wins());
        o.addProperty("ties", t.ties());
        o.addProperty("losses", t.losses());
        o.addProperty("unparsable", t.unparsable());
        number(o, "win_rate", t.winRate());
        number(o, "ci_low", t.ciLow());
        number(o, "ci_high", t.ciHigh());
        return o;
    }

    private static void number(JsonObject o, String name, double v) {
        if (Double.isNaN(v)) {
            o.add(name, JsonNull.INSTANCE);
        } else {
            o.addProperty(name, v);
        }
    }

    /** The report as a text table: each pair's preferences, then its overall line. */
    public String table() {
        int wc = "candidate".length();
        int wb = "baseline".length();
        int wp = "preference".length();
        for (Line l : byPreference) {
            wc = Math.max(wc, l.candidate().length());
            wb = Math.max(wb, l.baseline().length());
            wp = Math.max(wp, l.preference().length());
        }
        String fmt = "%-" + wc + "s  %-" + wb + "s  %-" + wp + "s  %5s  %5s  %6s  %10s  %8s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, fmt, "candidate", "baseline", "preference", "wins", "ties", "losses",
                "unparsable", "win rate", "95% CI"));
        for (Line o : overall) {
            for (Line l : byPreference) {
                if (l.candidate().equals(o.candidate()) && l.baseline().equals(o.baseline())) {
                    row(sb, fmt, l, l.preference());
                }
            }
            row(sb, fmt, o, "overall");
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String fmt, Line l, String preference) {
        Tally t = l.tally();
        sb.append(String.format(Locale.ROOT, fmt, l.candidate(), l.baseline(), preference, t.wins(), t.ties(),
                t.losses(), t.unparsable(), percent(t.winRate()), interval(t)));
    }

    /** {@code 62.5%}, or {@code -} for no comparisons. */
    static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    /** {@code [41.2, 80.3]} in percent, or {@code -}. */
    static String interval(Tally t) {
        return t.n() == 0 ? "-" : String.format(Locale.ROOT, "[%.1f, %.1f]", 100 * t.ciLow(), 100 * t.ciHigh());
    }
}
