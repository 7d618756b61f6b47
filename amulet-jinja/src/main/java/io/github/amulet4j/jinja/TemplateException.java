package io.github.amulet4j.jinja;

/**
 * An error while compiling or rendering a Jinja template: a syntax error, a runtime error (an undefined
 * value used where a value is required, a type error, a blocked operation) or an error the template
 * raised itself through {@code raise_exception(msg)}.
 *
 * <p>{@link #getMessage()} names the template source and line, for example
 * {@code "tokenizer_config.json:3: unexpected end of template, expected 'endfor'"}; for an error the
 * template raised, {@link #templateMessage()} is exactly the text the template passed.
 */
public class TemplateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final int line;
    private final String templateMessage;
    private final boolean raisedByTemplate;

    TemplateException(String templateMessage, String sourceName, int line, boolean raisedByTemplate) {
        super(format(templateMessage, sourceName, line, raisedByTemplate));
        this.sourceName = sourceName;
        this.line = line;
        this.templateMessage = templateMessage;
        this.raisedByTemplate = raisedByTemplate;
    }

    private static String format(String message, String sourceName, int line, boolean raised) {
        String where = (sourceName == null ? "<template>" : sourceName) + (line > 0 ? ":" + line : "");
        return raised ? where + ": template raised: " + message : where + ": " + message;
    }

    /** The name of the template source given to {@link JinjaTemplate#compile(String, String)}. */
    public String sourceName() {
        return sourceName;
    }

    /** The 1-based line of the template where the error happened, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** The message without the source location: for a raised error, exactly the template's text. */
    public String templateMessage() {
        return templateMessage;
    }

    /** Whether the template itself raised this error through {@code raise_exception(msg)}. */
    public boolean isRaisedByTemplate() {
        return raisedByTemplate;
    }
}
