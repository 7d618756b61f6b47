package io.github.amulet4j.jinja;

/** A runtime error without a location; the statement that catches it adds the source name and line. */
class EvalError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    EvalError(String message) {
        super(message, null, false, false);
    }

    /** The error a template raised through {@code raise_exception(msg)}. */
    static final class Raised extends EvalError {
        private static final long serialVersionUID = 1L;

        Raised(String message) {
            super(message);
        }
    }
}
