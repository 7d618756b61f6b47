package io.github.amulet4j.eval.judge;

/**
 * A judge request that failed: at once for an answer that retrying cannot change, or after its retries.
 */
public final class JudgeException extends Exception {

    /** What the failure says about the other requests of the run. */
    public enum Kind {
        /** Every request would fail the same way (a wrong key, model or URL, a refused connection): stop the run. */
        STOPS_RUN,
        /** The judge refused this prompt (a 4xx such as a prompt over its context): the others may pass. */
        THIS_PROMPT,
        /** No answer after the retries (429s, 5xx, timeouts): the judge may be down. */
        RETRIES_EXHAUSTED
    }

    private final Kind kind;

    public JudgeException(String message, Kind kind) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether every other request would fail the same way (so the run stops). */
    public boolean stopsRun() {
        return kind == Kind.STOPS_RUN;
    }
}
