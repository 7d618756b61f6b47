package io.github.amulet4j.jinja;

/**
 * A template went over one of its {@link TemplateLimits}: too many steps, a value or output too large, too much
 * built in all, nesting too deep in its source, macro calls too deep, or the Java stack or heap exhausted. The
 * message names the template, the line and the limit, for example
 * {@code "tokenizer_config.json:1: value-size limit: string repetition would build 9223372036854775807
 * characters, more than maxValueSize = 33554432 (TemplateLimits)"}.
 */
public class TemplateLimitException extends TemplateException {

    private static final long serialVersionUID = 1L;

    private final String limitName;
    private final long limitValue;

    TemplateLimitException(String message, String sourceName, int line, String limitName, long limitValue) {
        super(message, sourceName, line, false);
        this.limitName = limitName;
        this.limitValue = limitValue;
    }

    /**
     * The limit that stopped the template: {@code maxSteps}, {@code maxValueSize}, {@code maxWork},
     * {@code maxNestingDepth}, {@code maxCallDepth}, {@code maxRange}, {@code javaStack} or {@code javaHeap}.
     */
    public String limitName() {
        return limitName;
    }

    /** The value of that limit, or 0 for the Java stack and heap. */
    public long limitValue() {
        return limitValue;
    }
}
