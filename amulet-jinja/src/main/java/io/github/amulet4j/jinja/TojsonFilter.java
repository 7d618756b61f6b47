package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's {@code tojson} filter: Python's {@code json.dumps(x, ensure_ascii=False, indent=indent,
 * separators=separators, sort_keys=sort_keys)}, byte for byte.
 */
final class TojsonFilter {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    private TojsonFilter(String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
    }

    static String dumps(Object value, Args a) {
        Object indentArg = a.get(0, "indent", null);
        String indent = null;
        if (indentArg instanceof String s) {
            indent = s;
        } else if (Py.isInteger(indentArg)) {
            long width = Math.max(0, Py.toLong(indentArg));
            Budget.reserve(width, "tojson's indent");
            indent = " ".repeat((int) width);
        } else if (indentArg != null) {
            throw new EvalError("tojson(): indent must be an int or a str, not " + Py.typeName(indentArg));
        }
        String itemSep = indent == null ? ", " : ",";
        String keySep = ": ";
        Object separators = a.get(Integer.MAX_VALUE, "separators", null);
        if (separators instanceof List<?> seps && seps.size() == 2) {
            itemSep = Py.str(seps.get(0));
            keySep = Py.str(seps.get(1));
        }
        boolean sortKeys = Py.truthy(a.get(Integer.MAX_VALUE, "sort_keys", false));
        StringBuilder sb = new StringBuilder();
        new TojsonFilter(indent, itemSep, keySep, sortKeys).write(sb, value, 0);
        return sb.toString();
    }

    private void newline(StringBuilder sb, int level) {
        if (indent != null) {
            Budget.grow(sb.length(), Budget.plus(1, Budget.times(indent.length(), level)), "tojson");
            sb.append('\n').append(indent.repeat(level));
        }
    }

    private void write(StringBuilder sb, Object v, int level) {
        Budget.grow(sb.length(), Budget.plus(itemSeparator.length(), keySeparator.length()), "tojson");
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Long l) {
            sb.append(l);
        } else if (v instanceof Double d) {
            sb.append(floatJson(d));
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof List<?> list) {
            if (list.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                sb.append(i > 0 ? itemSeparator : "");
                newline(sb, level + 1);
                write(sb, list.get(i), level + 1);
            }
            newline(sb, level);
            sb.append(']');
        } else if (v instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((x, y) -> Py.compare(x.getKey(), y.getKey(), "<"));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                sb.append(first ? "" : itemSeparator);
                first = false;
                newline(sb, level + 1);
                quote(sb, key(e.getKey()));
                sb.append(keySeparator);
                write(sb, e.getValue(), level + 1);
            }
            newline(sb, level);
            sb.append('}');
        } else {
            throw new EvalError("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
    }

    private static String key(Object k) {
        if (k instanceof String s) {
            return s;
        } else if (k == null) {
            return "null";
        } else if (k instanceof Boolean b) {
            return b ? "true" : "false";
        } else if (k instanceof Long l) {
            return Long.toString(l);
        } else if (k instanceof Double d) {
            return floatJson(d);
        }
        throw new EvalError("keys must be str, int, float, bool or None, not " + Py.typeName(k));
    }

    private static String floatJson(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        } else if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return Py.floatRepr(d);
    }

    private static void quote(StringBuilder sb, String s) {
        // an escape is at most 6 characters: when that could pass the limit, count the exact length first
        if (Budget.plus(sb.length(), Budget.times(6, s.length())) > Budget.current().limits.maxValueSize()) {
            long exact = 2;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                exact += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f' ? 2
                        : c < 0x20 ? 6 : 1;
            }
            Budget.grow(sb.length(), exact, "tojson");
        }
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
