package io.github.amulet4j.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A compiled Jinja2 template, rendered as Python's Jinja2 renders it in Hugging Face's chat template
 * environment: {@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with the loop
 * controls extension, the globals {@code raise_exception}, {@code strftime_now}, {@code namespace},
 * {@code range} and {@code dict}, and Hugging Face's {@code tojson} filter.
 *
 * <p>The template runs in a sandbox by construction: it is interpreted over a closed value model (None,
 * booleans, 64-bit integers, floats, strings, lists, ordered dicts, namespaces, macros) into which the
 * context is copied on entry, so it can never reach a Java object, a method by reflection, or a file.
 * Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * JinjaTemplate t = JinjaTemplate.compile("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
 *         "tokenizer_config.json");
 * String text = t.render(Map.of("messages", List.of(Map.of("role", "user", "content", "Hi"))));
 * }</pre>
 */
public final class JinjaTemplate {

    private static final int MAX_NESTING = 100;

    private final String sourceName;
    private final List<Stmt> body;
    private final TemplateLimits limits;

    private JinjaTemplate(String sourceName, List<Stmt> body, TemplateLimits limits) {
        this.sourceName = sourceName;
        this.body = body;
        this.limits = limits;
    }

    /**
     * Parses {@code source}.
     *
     * @param source     the template text
     * @param sourceName where the text came from (for example the path of {@code tokenizer_config.json}),
     *                   named in every error
     * @throws TemplateException on a syntax error, naming {@code sourceName} and the line
     */
    public static JinjaTemplate compile(String source, String sourceName) {
        return compile(source, sourceName, TemplateLimits.defaults());
    }

    /**
     * Parses {@code source}, to render under {@code limits} (the template is untrusted code: see
     * {@link TemplateLimits}).
     *
     * @throws TemplateException      on a syntax error, naming {@code sourceName} and the line
     * @throws TemplateLimitException when the source nests deeper than {@link TemplateLimits#maxNestingDepth()}
     */
    public static JinjaTemplate compile(String source, String sourceName, TemplateLimits limits) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(limits, "limits");
        String name = sourceName == null ? "<template>" : sourceName;
        try {
            return new JinjaTemplate(name, Parser.parse(Lexer.tokenize(source, name), name, limits.maxNestingDepth()),
                    limits);
        } catch (StackOverflowError e) {
            throw new TemplateLimitException("the template nests too deeply for the Java stack while parsing"
                    + " (limit javaStack; lower TemplateLimits.maxNestingDepth = " + limits.maxNestingDepth() + ")", name, 0,
                    "javaStack", 0);
        } catch (OutOfMemoryError e) {
            throw new TemplateLimitException("the Java heap ran out while parsing the template (limit javaHeap)",
                    name, 0, "javaHeap", 0);
        }
    }

    /** The limits every render of this template runs under. */
    public TemplateLimits limits() {
        return limits;
    }

    /** This template, to render under other {@code limits} (the source nesting was checked at compile time). */
    public JinjaTemplate withLimits(TemplateLimits limits) {
        return new JinjaTemplate(sourceName, body, Objects.requireNonNull(limits, "limits"));
    }

    /** The name given at compile time. */
    public String sourceName() {
        return sourceName;
    }

    /**
     * Renders the template with {@code context} as its variables, using the system clock for
     * {@code strftime_now}.
     *
     * @param context variable values: {@code String}, {@code Number}, {@code Boolean}, {@code null}, and
     *                {@code List}s and {@code Map}s of those (copied; never modified)
     * @throws TemplateException        when the template fails or calls {@code raise_exception}; a
     *                                  {@link TemplateLimitException} when it goes over one of its
     *                                  {@link TemplateLimits} (no {@link Error} of the Java stack or heap escapes)
     * @throws IllegalArgumentException when a context value has another type
     */
    public String render(Map<String, ?> context) {
        return render(context, Clock.systemDefaultZone());
    }

    /** As {@link #render(Map)}, with {@code clock} giving the time {@code strftime_now} formats. */
    public String render(Map<String, ?> context, Clock clock) {
        Objects.requireNonNull(clock, "clock");
        Renderer renderer = new Renderer(sourceName, clock);
        Frame globals = new Frame(null, renderer);
        if (context != null) {
            context.forEach((k, v) -> globals.vars.put(Objects.requireNonNull(k, "context key"), toValue(v, k, 0)));
        }
        Budget previous = Budget.enter(new Budget(limits));
        try {
            StringBuilder out = new StringBuilder();
            Stmt.renderAll(body, globals.child(), out);
            return out.toString();
        } catch (StackOverflowError e) {
            throw new TemplateLimitException("the template recursed too deeply for the Java stack (limit javaStack:"
                    + " values nested too deeply, or deep macro calls: lower TemplateLimits.maxCallDepth = " + limits.maxCallDepth()
                    + ")", sourceName, 0, "javaStack", 0);
        } catch (OutOfMemoryError e) {
            throw new TemplateLimitException("the Java heap ran out while rendering the template (limit javaHeap;"
                    + " lower TemplateLimits.maxValueSize = " + limits.maxValueSize() + ")", sourceName, 0, "javaHeap", 0);
        } finally {
            Budget.restore(previous);
        }
    }

    /** Copies a Java value into the sandbox value model. */
    public static Object toValue(Object v, String path, int depth) {
        if (depth > MAX_NESTING) {
            throw new IllegalArgumentException("context value " + path + " is nested more than " + MAX_NESTING
                    + " levels deep (a cycle?)");
        }
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        } else if (v instanceof Float f) {
            return Double.valueOf(f.toString());
        } else if (v instanceof BigInteger b && b.bitLength() < 64) {
            return b.longValue();
        } else if (v instanceof BigDecimal b) {
            return b.doubleValue();
        } else if (v instanceof Character c) {
            return c.toString();
        } else if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                out.add(toValue(list.get(i), path + "[" + i + "]", depth + 1));
            }
            return out;
        } else if (v instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Object key = e.getKey();
                if (!(key == null || key instanceof String || key instanceof Number || key instanceof Boolean)) {
                    throw new IllegalArgumentException("context value " + path + " has a key of unsupported type "
                            + key.getClass().getName() + "; keys must be strings, numbers, booleans or null");
                }
                out.put(toValue(key, path, depth + 1), toValue(e.getValue(), path + "." + key, depth + 1));
            }
            return out;
        }
        throw new IllegalArgumentException("context value " + path + " has unsupported type " + v.getClass().getName()
                + "; templates accept only String, Number, Boolean, null, List and Map");
    }
}
