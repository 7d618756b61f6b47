package io.github.amulet4j.cli;

import io.github.amulet4j.djl.hub.DownloadListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Shows the progress of each file downloaded from the Hub on stderr (MiB, speed), as a {@link Progress}: on a
 * terminal a bar that redraws itself in place, elsewhere a plain line now and then. Files found in the cache get
 * one short line instead. Not thread-safe (the Hub downloader calls it from one thread).
 */
final class DownloadProgressBars implements DownloadListener, AutoCloseable {

    private static final int BYTES_PER_MIB = 1 << 20;

    private final PrintWriter err;
    private final boolean terminal;
    private final boolean noColor;
    private Progress bar;
    private String barFile;

    /**
     * @param err      where the bars go
     * @param terminal whether {@code err} is the process's stderr on a terminal (bars redraw in place)
     * @param noColor  whether the user asked for no colours ({@code NO_COLOR})
     */
    DownloadProgressBars(PrintWriter err, boolean terminal, boolean noColor) {
        this.err = err;
        this.terminal = terminal;
        this.noColor = noColor;
    }

    @Override
    public void fileStarted(String repo, String filename, long totalBytes, long resumedFrom) {
        close();
        if (resumedFrom > 0) {
            err.println("download: resuming " + repo + "/" + filename + " at " + resumedFrom + " bytes");
            err.flush();
        }
        bar = Progress.of("download: " + filename, " MiB", BYTES_PER_MIB, Math.max(totalBytes, -1),
                Math.max(0, resumedFrom), terminal, noColor, err, Duration.ofSeconds(2));
        barFile = filename;
    }

    @Override
    public void progress(String repo, String filename, long bytesDone, long totalBytes) {
        if (bar != null && filename.equals(barFile)) {
            if (totalBytes > 0) {
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
}
