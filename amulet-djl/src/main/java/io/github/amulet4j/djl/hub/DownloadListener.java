package io.github.amulet4j.djl.hub;

import java.nio.file.Path;

/** Receives download progress (for a progress bar); every method has an empty default. Called on the downloading thread. */
public interface DownloadListener {

    /** A listener that ignores everything. */
    DownloadListener NONE = new DownloadListener() {
    };

    /**
     * A file download starts; {@code totalBytes} is -1 when unknown, {@code resumedFrom} the bytes already present.
     * Called again for the same file when a cut transfer is resumed within the run.
     */
    default void fileStarted(String repo, String filename, long totalBytes, long resumedFrom) {
    }

    /** Bytes of the file present so far (resumed bytes included). */
    default void progress(String repo, String filename, long bytesDone, long totalBytes) {
    }

    /** A file is in the snapshot; {@code fromCache} when nothing was downloaded for it. */
    default void fileFinished(String repo, String filename, Path path, boolean fromCache) {
    }
}
