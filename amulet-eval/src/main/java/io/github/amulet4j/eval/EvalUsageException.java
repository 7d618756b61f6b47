package io.github.amulet4j.eval;

/**
 * A bad setting of an eval run found while planning or running it: an unknown or out-of-range value, a question set
 * in the wrong format, an output that holds rows of a run with other settings. Its message names the setting as
 * {@code amulet eval} spells it ({@code --dataset: ...}, {@code --out: ...}), so that the command line reports it
 * as it is, as bad usage (exit code 2).
 */
public class EvalUsageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public EvalUsageException(String message) {
        super(message);
    }

    public EvalUsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
