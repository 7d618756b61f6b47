package io.github.amulet4j.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * Progress of a long task on stderr (a download, an eval run). On a terminal: a bar that redraws in place
 * (the progressbar library; plain ASCII when {@code NO_COLOR} is set). Elsewhere (redirected stderr, a log file, a
 * test's writer): a plain line now and then, without colours or bar glyphs, and one closing line.
 */
interface Progress extends AutoCloseable {

    /** The task is at {@code done} units. */
    void stepTo(long done);

    /** One more unit done. */
    void step();

    /** The total, once it is known (or when it changes). */
    void maxHint(long total);

    @Override
    void close();

    /**
     * A progress display.
     *
     * @param task     its name, first on every line
     * @param unit     the unit's name ({@code " MiB"}, {@code " rows"})
     * @param perUnit  units of {@code stepTo} per displayed unit (bytes per MiB; 1 for rows)
     * @param total    the total in {@code stepTo}'s units, or -1 when unknown
     * @param start    where the task starts (a resumed download, rows already done)
     * @param terminal whether stderr is a terminal
     * @param noColor  whether the user asked for no colours
     * @param err      where plain lines go
     * @param every    how often a plain line is written at most
     */
    static Progress of(String task, String unit, long perUnit, long total, long start, boolean terminal,
                       boolean noColor, PrintWriter err, Duration every) {
        if (terminal) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(noColor ? ProgressBarStyle.ASCII : ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(unit, perUnit).showSpeed()
                    .setUpdateIntervalMillis(200).startsFrom(start, Duration.ZERO).build();
            return new Progress() {
                @Override
                public void stepTo(long done) {
                    bar.stepTo(done);
                }

                @Override
                public void step() {
                    bar.step();
                }

                @Override
                public void maxHint(long max) {
                    bar.maxHint(max);
                }

                @Override
                public void close() {
                    bar.close();
                }
            };
        }
        return new PlainProgress(task, unit, perUnit, total, start, err, every);
    }

    /** The plain-lines display: {@code task: 12.0/26.7 MiB (45%), 3.1 MiB/s}. */
    final class PlainProgress implements Progress {
        private final String task;
        private final String unit;
        private final double perUnit;
        private final long start;
        private final PrintWriter err;
        private final long everyNanos;
        private final long startNanos = System.nanoTime();
        private long total;
        private long done;
        private long lastLine = System.nanoTime();
        private long lastPrinted = -1;
        private boolean closed;

        PlainProgress(String task, String unit, long perUnit, long total, long start, PrintWriter err, Duration every) {
            this.task = task;
            this.unit = unit;
            this.perUnit = perUnit;
            this.total = total;
            this.start = start;
            this.done = start;
            this.err = err;
            this.everyNanos = every.toNanos();
        }

        @Override
        public void stepTo(long value) {
            done = value;
            long now = System.nanoTime();
            if (now - lastLine >= everyNanos) {
                print(now);
            }
        }

        @Override
        public void step() {
            stepTo(done + 1);
        }

        @Override
        public void maxHint(long max) {
            total = max;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (done != lastPrinted) {
                    print(System.nanoTime());
                }
            }
        }

        /** The line for the current state (package-private for tests). */
        String line(long now) {
            double seconds = (now - startNanos) / 1e9;
            StringBuilder sb = new StringBuilder(task).append(": ").append(amount(done));
            if (total > 0) {
                sb.append('/').append(amount(total)).append(unit)
                        .append(String.format(Locale.ROOT, " (%d%%)", Math.round(100.0 * done / total)));
            } else {
                sb.append(unit);
            }
            if (seconds > 0 && done > start) {
                sb.append(String.format(Locale.ROOT, ", %.1f%s/s", (done - start) / perUnit / seconds, unit));
            }
            return sb.toString();
        }

        private String amount(long v) {
            return perUnit == 1 ? Long.toString(v) : String.format(Locale.ROOT, "%.1f", v / perUnit);
        }

        private void print(long now) {
            err.println(line(now));
            err.flush();
            lastLine = now;
            lastPrinted = done;
        }
    }
}
