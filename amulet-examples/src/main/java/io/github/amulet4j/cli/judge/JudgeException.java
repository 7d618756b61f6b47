package io.github.amulet4j.cli.judge;

/**
 * A judge request that failed: after its retries, or at once for an answer that retrying cannot change
 * ({@link #stopsRun()}: a wrong key, model or URL, a refused connection).
 */
public final class JudgeException extends Exception {

    private final boolean stopsRun;

    public JudgeException(String message, boolean stopsRun) {
        super(message);
        this.stopsRun = stopsRun;
    }

    /** Whether every other request would fail the same way (so the run stops). */
    public boolean stopsRun() {
        return stopsRun;
    }
}
