package io.github.amulet4j.djl.hub;

import java.io.IOException;

/** A Hub download or cache look-up that failed: the message names the repository, file or URL and what to do. */
public class HubException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int status;

    /** An error not tied to an HTTP status. */
    public HubException(String message) {
        this(message, -1, null);
    }

    /** An error with the HTTP status that caused it (or -1) and a cause (or null). */
    public HubException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status, or -1. */
    public int status() {
        return status;
    }
}
