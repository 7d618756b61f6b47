package io.github.amulet4j.jinja;

/**
 * A string marked safe by the {@code safe} or {@code escape} filter (markupsafe's {@code Markup}). Jinja2 in
 * a chat template environment (no autoescape) treats it as a plain string except for {@code +}: joining a
 * Markup with a plain string HTML-escapes the plain one, so {@code "'"|safe + name} escapes {@code name}.
 * Here a Markup exists only while a chain of {@code +} is evaluated ({@link Expr#evalMarkup}); every other
 * use sees its text as a plain string.
 */
record Markup(String text) {

    /** markupsafe's escape of a plain string. */
    static String escape(String s) {
        long size = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            size += c == '&' || c == '"' || c == '\'' ? 4 : c == '<' || c == '>' ? 3 : 0;
        }
        Budget.reserve(size, "escape");
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
                .replace("'", "&#39;");
    }

    /** {@code a + b} where at least one side may be a Markup, as Python evaluates it. */
    static Object add(Object a, Object b) {
        if (a instanceof Markup x && b instanceof Markup y) {
            return new Markup(Py.concat(x.text, y.text, "string concatenation (+)"));
        } else if (a instanceof Markup x && b instanceof String y) {
            return new Markup(Py.concat(x.text, escape(y), "string concatenation (+)"));
        } else if (a instanceof String x && b instanceof Markup y) {
            return new Markup(Py.concat(escape(x), y.text, "string concatenation (+)"));
        } else if (a instanceof Undefined u) {
            throw u.fail();
        } else if (b instanceof Undefined u) {
            throw u.fail();
        } else if (a instanceof Markup || b instanceof Markup) {
            throw new EvalError("unsupported operand type(s) for +: '" + typeName(a) + "' and '" + typeName(b) + "'");
        }
        return Py.add(a, b);
    }

    private static String typeName(Object v) {
        return v instanceof Markup ? "Markup" : Py.typeName(v);
    }

    /** The text of a Markup; any other value unchanged. */
    static Object plain(Object v) {
        return v instanceof Markup m ? m.text : v;
    }
}
