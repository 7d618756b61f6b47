package io.github.amulet4j.eval.judge;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Win rates as an SVG bar chart: one panel per (candidate, baseline), one bar per preference and one for overall.
 * Each bar is split into the candidate's wins, ties and the baseline's wins (unparsable ones left out); a black mark
 * shows the win rate (ties as half) with its 95% interval as a whisker, and a dashed line marks 50%. Drawn for the
 * judge's report ({@link #svg(JudgeReport, String)}) and for any other source of tallies ({@link #svg(Labels, List)}:
 * reward-model win rates).
 */
public final class WinRateChart {

    /** A bar: a label and its tally. */
    public record Bar(String label, Tally tally) {
    }

    /** A panel: one pair's bars per preference, then its overall bar. */
    public record Panel(String candidate, String baseline, List<Bar> bars, Tally overall) {
        /** Copies the bars. */
        public Panel {
            bars = List.copyOf(bars);
        }
    }

    /**
     * The chart's words.
     *
     * @param title    the chart's title
     * @param subtitle a line under it (the judge or reward model, say)
     * @param win      the legend of the candidate's wins
     * @param tie      the legend of ties
     * @param loss     the legend of the baseline's wins
     */
    public record Labels(String title, String subtitle, String win, String tie, String loss) {
    }

    private static final String WIN = "#3b6fb6";
    private static final String TIE = "#c8c8c8";
    private static final String LOSS = "#e07b39";
    private static final int WIDTH = 900;
    private static final int LABEL_RIGHT = 170;
    private static final int BAR_LEFT = 180;
    private static final int BAR_WIDTH = 440;
    private static final int ROW = 30;
    private static final int BAR = 18;

    private WinRateChart() {
    }

    /**
     * The chart of a judge's report.
     *
     * @param subtitle a line under the title (the judge model, say)
     */
    public static String svg(JudgeReport report, String subtitle) {
        List<Panel> panels = new ArrayList<>();
        for (JudgeReport.Line pair : report.overall()) {
            List<Bar> bars = new ArrayList<>();
            for (JudgeReport.Line l : report.byPreference()) {
                if (l.candidate().equals(pair.candidate()) && l.baseline().equals(pair.baseline())) {
                    bars.add(new Bar(l.preference(), l.tally()));
                }
            }
            panels.add(new Panel(pair.candidate(), pair.baseline(), bars, pair.tally()));
        }
        return svg(new Labels("Pairwise judge: how often the candidate's answer follows the preference better",
                subtitle, "candidate better", "tie (or the two orders disagree)", "baseline better"), panels);
    }

    /** The chart of {@code panels}, one after the other. */
    public static String svg(Labels labels, List<Panel> panels) {
        StringBuilder body = new StringBuilder();
        int y = 92;
        for (Panel pair : panels) {
            text(body, 20, y, "start", "font-size=\"15\" font-weight=\"bold\"",
                    pair.candidate() + " vs " + pair.baseline());
            text(body, BAR_LEFT + BAR_WIDTH + 12, y, "start", "font-size=\"11\" fill=\"#444\"",
                    "win rate, 95% interval, wins/ties/losses");
            y += 12;
            int top = y;
            for (Bar l : pair.bars()) {
                bar(body, y, l.label(), l.tally(), false);
                y += ROW;
            }
            body.append(String.format(Locale.ROOT, "<line x1=\"20\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>%n",
                    y + 2, WIDTH - 20, y + 2));
            y += 6;
            bar(body, y, "overall", pair.overall(), true);
            y += ROW;
            // 50% line and axis
            int mid = BAR_LEFT + BAR_WIDTH / 2;
            body.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" "
                    + "stroke-dasharray=\"4 3\"/>%n", mid, top, mid, y));
            for (int pct = 0; pct <= 100; pct += 25) {
                int x = BAR_LEFT + BAR_WIDTH * pct / 100;
                body.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n",
                        x, y, x, y + 4));
                text(body, x, y + 17, "middle", "font-size=\"11\"", pct + "%");
            }
            y += 50;
        }
        int height = y - 20;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">%n", WIDTH, height,
                WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        text(svg, 20, 28, "start", "font-size=\"18\" font-weight=\"bold\"", labels.title());
        text(svg, 20, 48, "start", "font-size=\"12\" fill=\"#444\"", labels.subtitle());
        legend(svg, 20, 66, labels);
        svg.append(body);
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static void legend(StringBuilder sb, int x, int y, Labels labels) {
        String[][] items = {{WIN, labels.win()}, {TIE, labels.tie()}, {LOSS, labels.loss()}};
        for (String[] item : items) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
                    x, y - 10, item[0]));
            text(sb, x + 17, y, "start", "font-size=\"12\"", item[1]);
            x += 30 + 7 * item[1].length();
        }
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\" "
                + "stroke-width=\"1.5\"/>%n", x, y - 4, x + 24, y - 4));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"4\" height=\"14\" fill=\"black\"/>%n",
                x + 10, y - 11));
        text(sb, x + 30, y, "start", "font-size=\"12\"", "win rate (ties as 1/2), 95% interval");
    }

    private static void bar(StringBuilder sb, int y, String label, Tally t, boolean bold) {
        String weight = bold ? " font-weight=\"bold\"" : "";
        text(sb, LABEL_RIGHT, y + 14, "end", "font-size=\"13\"" + weight, label);
        int n = t.n();
        if (n == 0) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                    + "stroke=\"#bbb\"/>%n", BAR_LEFT, y, BAR_WIDTH, BAR));
            text(sb, BAR_LEFT + BAR_WIDTH + 12, y + 14, "start", "font-size=\"12\" fill=\"#666\"",
                    "no comparisons" + (t.unparsable() > 0 ? " (" + t.unparsable() + " unparsable)" : ""));
            return;
        }
        double x = BAR_LEFT;
        double[] parts = {t.wins(), t.ties(), t.losses()};
        String[] colours = {WIN, TIE, LOSS};
        for (int i = 0; i < 3; i++) {
            double w = BAR_WIDTH * parts[i] / n;
            if (w > 0) {
                sb.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
                        + "fill=\"%s\"><title>%s: %d</title></rect>%n", x, y, w, BAR, colours[i],
                        i == 0 ? "wins" : i == 1 ? "ties" : "losses", (int) parts[i]));
            }
            x += w;
        }
        double rate = BAR_LEFT + BAR_WIDTH * t.winRate();
        double lo = BAR_LEFT + BAR_WIDTH * t.ciLow();
        double hi = BAR_LEFT + BAR_WIDTH * t.ciHigh();
        int cy = y + BAR / 2;
        sb.append(String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"black\" "
                + "stroke-width=\"1.5\"/>%n", lo, cy, hi, cy));
        for (double end : new double[] {lo, hi}) {
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"black\" "
                    + "stroke-width=\"1.5\"/>%n", end, cy - 5, end, cy + 5));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%d\" width=\"4\" height=\"%d\" fill=\"black\"/>%n",
                rate - 2, y - 2, BAR + 4));
        String value = JudgeReport.percent(t.winRate()) + "  " + JudgeReport.interval(t).replace(", ", "\u2013")
                + "  " + t.wins() + "/" + t.ties() + "/" + t.losses()
                + (t.unparsable() > 0 ? "  (" + t.unparsable() + " unparsable)" : "");
        text(sb, BAR_LEFT + BAR_WIDTH + 12, y + 14, "start", "font-size=\"12\"" + weight, value);
    }

    private static void text(StringBuilder sb, int x, int y, String anchor, String attributes, String s) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" %s>%s</text>%n", x, y, anchor,
                attributes, escape(s)));
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
