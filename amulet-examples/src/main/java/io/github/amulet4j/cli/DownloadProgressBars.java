package io.github.amulet4j.cli;

import io.github.amulet4j.djl.hub.DownloadListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * Draws one progress bar per file downloaded from the Hub on stderr (MiB, speed, ETA). On a terminal the bar
 * redraws itself in place; on captured or redirected streams it writes a line now and then. Files found in the
 * cache get one short line instead of a bar. Not thread-safe (the Hub downloader calls it from one thread).
 */
final class DownloadProgressBars implements DownloadListener, AutoCloseable {

    private static final int BYTES_PER_MIB = 1 << 20;

    private final PrintWriter err;
    private final boolean terminal;
    private ProgressBar bar;
    private String barFile;

    /**
     * @param err      where the bars go
     * @param terminal whether {@code err} is the process's stderr on a terminal (bars redraw in place)
     */
    DownloadProgressBars(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void fileStarted(String repo, String filename, long totalBytes, long resumedFrom) {
        close();
        if (resumedFrom > 0) {
            err.println("download: resuming " + repo + "/" + filename + " at " + resumedFrom + " bytes");
            err.flush();
        }
        bar = new ProgressBarBuilder().setTaskName(filename).setInitialMax(Math.max(totalBytes, -1))
                .setConsumer(consumer(terminal, err)).setUnit("MiB", BYTES_PER_MIB).showSpeed()
                .setUpdateIntervalMillis(terminal ? 200 : 2000).startsFrom(Math.max(0, resumedFrom), java.time.Duration.ZERO)
                .build();
        barFile = filename;
    }

    @Override
    public void progress(String repo, String filename, long bytesDone, long totalBytes) {
        if (bar != null && filename.equals(barFile)) {
            if (totalBytes > 0 && bar.getMax() != totalBytes) {
                bar.maxHint(totalBytes);
            }
            bar.stepTo(bytesDone);
        }
    }

    @Override
    public void fileFinished(String repo, String filename, Path path, boolean fromCache) {
        if (filename.equals(barFile)) {
            close();
        } else if (fromCache) {
            err.println("download: " + repo + "/" + filename + " already in the cache");
            err.flush();
        }
    }

    /** Finishes the bar being drawn, if any. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
            barFile = null;
        }
    }

    /**
     * Where a progress bar draws: in place on the process's stderr when it is a terminal, else a line at a time on
     * {@code err} (redirected output, or the writer a test gave the command).
     */
    static ProgressBarConsumer consumer(boolean terminal, PrintWriter err) {
        return terminal
                ? new ConsoleProgressBarConsumer(System.err)
                : new DelegatingProgressBarConsumer(line -> {
                    err.println(line);
                    err.flush();
                }, 100);
    }
}
