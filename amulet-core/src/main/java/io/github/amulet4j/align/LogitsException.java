package io.github.amulet4j.align;

/**
 * Logits that cannot be decoded: NaN or {@code +inf} from the model, or a row in which every token is
 * masked. The message names the stream ({@code base} or {@code preference}), the token and, when the
 * generation loop knows them, the decoding step and the request.
 */
public class LogitsException extends RuntimeException {

    private final String stream;
    private final int token;
    private final int step;
    private final int request;

    /**
     * @param stream  {@code "base"} or {@code "preference"}
     * @param token   offending token index, or -1 when the whole row is at fault
     * @param problem what is wrong, e.g. {@code "NaN"}
     */
    public LogitsException(String stream, int token, String problem) {
        this(stream, token, -1, -1, problem);
    }

    private LogitsException(String stream, int token, int step, int request, String problem) {
        super(message(stream, token, step, request, problem));
        this.stream = stream;
        this.token = token;
        this.step = step;
        this.request = request;
        this.problem = problem;
    }

    private final String problem;

    private static String message(String stream, int token, int step, int request, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(stream).append(" stream logits");
        if (step >= 0) {
            sb.append(" at step ").append(step);
        }
        if (request >= 0) {
            sb.append(" of request ").append(request);
        }
        sb.append(": ").append(problem);
        if (token >= 0) {
            sb.append(" at token ").append(token);
        }
        return sb.toString();
    }

    /** The same error with the decoding step (0 = first generated token) and request index added. */
    public LogitsException withContext(int step, int request) {
        LogitsException e = new LogitsException(stream, token, step, request, problem);
        e.setStackTrace(getStackTrace());
        return e;
    }

    /** {@code "base"} or {@code "preference"}. */
    public String stream() {
        return stream;
    }

    /** Offending token, or -1. */
    public int token() {
        return token;
    }

    /** Decoding step (0-based), or -1 when unknown. */
    public int step() {
        return step;
    }

    /** Request index in the batch, or -1 when unknown. */
    public int request() {
        return request;
    }
}
