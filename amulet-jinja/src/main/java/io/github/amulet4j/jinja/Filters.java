package io.github.amulet4j.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Jinja2's built-in filters that chat templates use, plus Hugging Face's {@code tojson}. */
final class Filters {

    private Filters() {
    }

    static boolean exists(String name) {
        return switch (name) {
            case "trim", "length", "count", "upper", "lower", "title", "capitalize", "replace", "default", "d",
                 "join", "first", "last", "list", "string", "int", "float", "tojson", "items", "dictsort",
                 "selectattr", "rejectattr", "select", "reject", "map", "safe", "indent", "reverse", "round",
                 "abs", "unique", "sum", "min", "max", "sort", "escape", "e", "attr", "wordcount", "center",
                 "batch", "bool" -> true;
            default -> false;
        };
    }

    static Object apply(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args(name, args, kwargs);
        switch (name) {
            case "trim":
                return StringMethods.strip(Py.str(v), a.string(0, "chars", null), true, true);
            case "length":
            case "count":
                return Py.length(v);
            case "upper":
                Budget.reserve(Py.str(v).length(), "the upper filter");
                return Access.upper(Py.str(v));
            case "lower":
                Budget.reserve(Py.str(v).length(), "the lower filter");
                return Access.lower(Py.str(v));
            case "capitalize":
                return StringMethods.capitalize(Py.str(v));
            case "title":
                return jinjaTitle(Py.str(v));
            case "replace": {
                Object count = a.get(2, "count", null);
                return StringMethods.replace(Py.str(v), Py.str(a.required(0, "old")), Py.str(a.required(1, "new")),
                        count == null ? -1 : Py.toLong(count));
            }
            case "default":
            case "d": {
                boolean useBoolean = a.bool(1, "boolean", false);
                if (v instanceof Undefined || (useBoolean && !Py.truthy(v))) {
                    return a.get(0, "default_value", "");
                }
                return v;
            }
            case "join": {
                String sep = Py.str(a.get(0, "d", ""));
                String attribute = a.string(1, "attribute", null);
                return StringMethods.join(sep, v, attribute, "the join filter");
            }
            case "first": {
                if (v instanceof PyIterator it) { // takes one element only
                    return it.hasNext() ? it.next() : Undefined.withMessage("No first item, sequence was empty.");
                }
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? Undefined.withMessage("No first item, sequence was empty.") : items.get(0);
            }
            case "last": {
                if (v instanceof PyIterator it) {
                    throw new EvalError("'" + it.typeName() + "' object is not reversible");
                }
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? Undefined.withMessage("No last item, sequence was empty.")
                        : items.get(items.size() - 1);
            }
            case "list":
                return Py.iterate(v);
            case "string":
                return Py.str(v);
            case "bool":
                return Py.truthy(v);
            case "int":
                return toInt(v, a.get(0, "default", 0L), a.integer(1, "base", 10));
            case "float":
                return toFloat(v, a.get(0, "default", 0.0));
            case "tojson":
                return TojsonFilter.dumps(v, a);
            case "items":
                if (v instanceof Undefined) {
                    return PyIterator.over("generator", new ArrayList<>());
                }
                if (!(v instanceof Map<?, ?> map)) {
                    throw new EvalError("Can only get item pairs from a mapping.");
                }
                return PyIterator.over("generator", Access.items(map));
            case "dictsort":
                return dictsort(v, a);
            // Jinja2 returns generators here, which yield nothing when the input is false (None, an empty string)
            case "selectattr":
            case "rejectattr":
                return PyIterator.generator(() -> select(v, args, kwargs, true, name.equals("selectattr")));
            case "select":
            case "reject":
                return PyIterator.generator(() -> select(v, args, kwargs, false, name.equals("select")));
            case "map":
                return PyIterator.generator(() -> map(v, args, kwargs));
            case "safe":
                return Py.str(v); // Markup(value): a string
            case "escape":
            case "e":
                return escape(Py.str(v));
            case "indent":
                return indent(Py.str(v), a.get(0, "width", 4L), a.bool(1, "first", false), a.bool(2, "blank", false));
            case "reverse":
                return reverse(v);
            case "round":
                return round(v, a.integer(0, "precision", 0), a.string(1, "method", "common"));
            case "abs":
                if (v instanceof Double d) {
                    return Math.abs(d);
                } else if (Py.isInteger(v)) {
                    return Math.abs(Py.toLong(v));
                }
                throw new EvalError("bad operand type for abs(): '" + Py.typeName(v) + "'");
            case "unique": {
                boolean caseSensitive = a.bool(0, "case_sensitive", false);
                String attribute = a.string(1, "attribute", null);
                return PyIterator.generator(() -> unique(v, caseSensitive, attribute));
            }
            case "sum": {
                String attribute = a.string(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object o : Py.iterate(v)) {
                    total = Py.add(total, attribute == null ? o : attr(o, attribute));
                }
                return total;
            }
            case "min":
            case "max": {
                List<Object> sorted = sort(v, false, a.bool(0, "case_sensitive", false), a.string(1, "attribute", null));
                if (sorted.isEmpty()) {
                    return Undefined.withMessage("No aggregated item, sequence was empty.");
                }
                return name.equals("min") ? sorted.get(0) : sorted.get(sorted.size() - 1);
            }
            case "sort":
                return sort(v, a.bool(0, "reverse", false), a.bool(1, "case_sensitive", false),
                        a.string(2, "attribute", null));
            case "attr":
                return Access.getattr(v, Py.str(a.required(0, "name")));
            case "wordcount":
                return (long) StringMethods.split(Py.str(v), null, -1).size();
            case "center": {
                String s = Py.str(v);
                long width = a.integer(0, "width", 80);
                int len = s.codePointCount(0, s.length());
                if (width <= len) {
                    return s;
                }
                long pad = width - len;
                Budget.reserve(Budget.plus(s.length(), pad), "the center filter");
                long left = pad / 2 + (pad & width & 1);
                return " ".repeat((int) left) + s + " ".repeat((int) (pad - left));
            }
            case "batch": {
                long size = a.integer(0, "linecount", 1);
                Object fill = a.get(1, "fill_with", null);
                List<Object> out = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    cur.add(o);
                    if (cur.size() == size) {
                        out.add(cur);
                        cur = new ArrayList<>();
                    }
                }
                if (!cur.isEmpty()) {
                    if (fill != null) {
                        Budget.reserveElements(size, "the batch filter's fill");
                        while (cur.size() < size) {
                            cur.add(fill);
                        }
                    }
                    out.add(cur);
                }
                return PyIterator.over("generator", out);
            }
            default:
                throw new EvalError("No filter named '" + name + "'.");
        }
    }

    /** Jinja's getattr with dotted paths ({@code attribute='a.b'}) and integer path parts. */
    static Object attr(Object o, String attribute) {
        Object cur = o;
        for (String part : attribute.split("\\.", -1)) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            cur = Access.getitem(cur, key);
        }
        return cur;
    }

    private static String jinjaTitle(String s) {
        StringBuilder sb = new StringBuilder();
        boolean wordStart = true;
        for (int c : Py.codePoints(s)) {
            boolean separator = Lexer.isSpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
            if (separator) {
                sb.appendCodePoint(c);
                wordStart = true;
            } else if (wordStart) {
                sb.append(Access.upper(new String(Character.toChars(c))));
                wordStart = false;
            } else {
                sb.append(Access.lower(new String(Character.toChars(c))));
            }
        }
        return sb.toString();
    }

    private static Object toInt(Object v, Object fallback, long base) {
        if (Py.isInteger(v)) {
            return Py.toLong(v);
        } else if (v instanceof Double d) {
            return Double.isFinite(d) ? (Object) (long) d.doubleValue() : fallback;
        } else if (v instanceof String s) {
            String t = StringMethods.strip(s, null, true, true).replace("_", "");
            try {
                String digits = t.startsWith("+") ? t.substring(1) : t;
                boolean negative = digits.startsWith("-");
                String body = negative ? digits.substring(1) : digits;
                String prefix = body.length() > 1 ? Access.lower(body.substring(0, 2)) : "";
                if (base == 16 && prefix.equals("0x") || base == 8 && prefix.equals("0o") || base == 2 && prefix.equals("0b")) {
                    body = body.substring(2);
                }
                return Long.parseLong((negative ? "-" : "") + body, (int) base);
            } catch (NumberFormatException e) {
                try {
                    double d = Double.parseDouble(t);
                    return Double.isFinite(d) ? (Object) (long) d : fallback;
                } catch (NumberFormatException e2) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static Object toFloat(Object v, Object fallback) {
        if (Py.isNumber(v)) {
            return Py.toDouble(v);
        } else if (v instanceof String s) {
            String t = StringMethods.strip(s, null, true, true);
            String lower = Access.lower(t);
            switch (lower) {
                case "inf", "+inf", "infinity", "+infinity" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-inf", "-infinity" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                case "nan", "+nan", "-nan" -> {
                    return Double.NaN;
                }
                default -> { }
            }
            if (!t.matches("[+-]?(\\d[\\d_]*)?(\\.\\d*)?([eE][+-]?\\d+)?") || t.matches("[+-]?\\.?([eE].*)?")) {
                return fallback;
            }
            return Double.parseDouble(t.replace("_", ""));
        }
        return fallback;
    }

    private static Object dictsort(Object v, Args a) {
        if (!(v instanceof Map<?, ?> map)) {
            throw new EvalError("You can only sort by either \"key\" or \"value\" of a mapping");
        }
        boolean caseSensitive = a.bool(0, "case_sensitive", false);
        String by = a.string(1, "by", "key");
        boolean reverse = a.bool(2, "reverse", false);
        int pos = by.equals("key") ? 0 : by.equals("value") ? 1 : -1;
        if (pos < 0) {
            throw new EvalError("You can only sort by either \"key\" or \"value\"");
        }
        List<Object> items = Access.items(map);
        Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(((List<?>) x).get(pos), caseSensitive),
                sortKey(((List<?>) y).get(pos), caseSensitive), "<");
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? Access.lower(s) : v;
    }

    private static List<Object> sort(Object v, boolean reverse, boolean caseSensitive, String attribute) {
        List<Object> items = Py.iterate(v);
        Comparator<Object> cmp = (x, y) -> Py.compare(
                sortKey(attribute == null ? x : attr(x, attribute), caseSensitive),
                sortKey(attribute == null ? y : attr(y, attribute), caseSensitive), "<");
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
    }

    private static List<Object> select(Object v, List<Object> args, Map<String, Object> kwargs, boolean byAttr,
            boolean keep) {
        int next = 0;
        String attribute = null;
        if (byAttr) {
            if (args.isEmpty()) {
                throw new EvalError("Missing parameter for attribute name");
            }
            attribute = Py.str(args.get(next++));
        }
        String test = next < args.size() ? Py.str(args.get(next++)) : null;
        List<Object> testArgs = new ArrayList<>(args.subList(Math.min(next, args.size()), args.size()));
        List<Object> out = new ArrayList<>();
        for (Object o : Py.truthy(v) ? Py.iterate(v) : List.of()) {
            Object subject = attribute == null ? o : attr(o, attribute);
            boolean ok = test == null ? Py.truthy(subject) : Tests.apply(test, subject, testArgs, kwargs);
            if (ok == keep) {
                out.add(o);
            }
        }
        return out;
    }

    private static List<Object> map(Object v, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        if (!Py.truthy(v)) {
            return out;
        }
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
            String attribute = Py.str(kwargs.get("attribute"));
            Object fallback = kwargs.getOrDefault("default", Args.MISSING);
            for (Object o : Py.iterate(v)) {
                Object x = attr(o, attribute);
                out.add(x instanceof Undefined && fallback != Args.MISSING ? fallback : x);
            }
            return out;
        }
        if (args.isEmpty()) {
            throw new EvalError("map requires a filter argument");
        }
        String filter = Py.str(args.get(0));
        List<Object> rest = args.subList(1, args.size());
        for (Object o : Py.iterate(v)) {
            out.add(apply(filter, o, rest, kwargs));
        }
        return out;
    }

    private static String escape(String s) {
        return Markup.escape(s);
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        long widthChars = width instanceof String w ? w.length() : Math.max(0, Py.toLong(width));
        List<Object> lines = splitLines(s + "\n");
        // every line may get the indention, the first one too
        Budget.reserve(Budget.plus(s.length() + 1L, Budget.times(widthChars, lines.size() + 1L)), "the indent filter");
        String indention = width instanceof String w ? w : " ".repeat((int) widthChars);
        String rv;
        if (blank) {
            rv = String.join("\n" + indention, lines.stream().map(Object::toString).toList());
        } else {
            StringBuilder sb = new StringBuilder((String) lines.get(0));
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                sb.append('\n').append(line.isEmpty() ? line : indention + line);
            }
            rv = sb.toString();
        }
        return first ? indention + rv : rv;
    }

    private static List<Object> splitLines(String s) {
        JinjaCallable m = StringMethods.method(s, "splitlines");
        @SuppressWarnings("unchecked")
        List<Object> lines = (List<Object>) m.call(List.of(), Map.of());
        return lines;
    }

    private static Object reverse(Object v) {
        if (v instanceof String s) {
            return new StringBuilder(s).reverse().toString();
        }
        // Python's reversed(): a one-shot iterator for sequences and dicts, a list for other iterables
        boolean iterator = v instanceof List || v instanceof Map || v instanceof Undefined;
        String type = v instanceof PyTuple || v instanceof Undefined ? "reversed"
                : v instanceof Map ? "dict_reversekeyiterator" : "list_reverseiterator";
        List<Object> items = Py.iterate(v);
        Collections.reverse(items);
        return iterator ? PyIterator.over(type, items) : items;
    }

    private static Object round(Object v, long precision, String method) {
        if (!Py.isNumber(v)) {
            throw new EvalError("round() needs a number, got " + Py.typeName(v));
        }
        if (!method.equals("common") && !method.equals("floor") && !method.equals("ceil")) {
            throw new EvalError("method must be common, ceil or floor");
        }
        if (method.equals("common")) {
            if (Py.isInteger(v)) {
                return Py.toLong(v);
            }
            double d = Py.toDouble(v);
            if (!Double.isFinite(d)) {
                return d;
            }
            return new BigDecimal(d).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
        }
        double scale = Math.pow(10, precision);
        double x = Py.toDouble(v) * scale;
        return (method.equals("floor") ? Math.floor(x) : Math.ceil(x)) / scale;
    }

    private static List<Object> unique(Object v, boolean caseSensitive, String attribute) {
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object o : Py.iterate(v)) {
            Object key = sortKey(attribute == null ? o : attr(o, attribute), caseSensitive);
            Budget.scanElements(seen.size(), "the unique filter");
            if (seen.stream().noneMatch(k -> Py.eq(k, key))) {
                seen.add(key);
                out.add(o);
            }
        }
        return out;
    }

    static Map<Object, Object> dict(Map<String, Object> kwargs) {
        return new LinkedHashMap<>(kwargs);
    }
}
