package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.List;

/** The Python {@code str} methods templates use, with Python's exact semantics (indices in code points). */
final class StringMethods {

    private StringMethods() {
    }

    static JinjaCallable method(String s, String name) {
        return switch (name) {
            case "strip" -> Access.method(name, a -> strip(s, a.string(0, "chars", null), true, true));
            case "lstrip" -> Access.method(name, a -> strip(s, a.string(0, "chars", null), true, false));
            case "rstrip" -> Access.method(name, a -> strip(s, a.string(0, "chars", null), false, true));
            case "split" -> Access.method(name, a -> split(s, a.string(0, "sep", null), a.integer(1, "maxsplit", -1)));
            case "rsplit" -> Access.method(name, a -> rsplit(s, a.string(0, "sep", null), a.integer(1, "maxsplit", -1)));
            case "splitlines" -> Access.method(name, a -> splitlines(s, a.bool(0, "keepends", false)));
            case "startswith" -> Access.method(name, a -> affix(s, a, true));
            case "endswith" -> Access.method(name, a -> affix(s, a, false));
            case "upper" -> Access.method(name, a -> Access.upper(s));
            case "lower" -> Access.method(name, a -> Access.lower(s));
            case "title" -> Access.method(name, a -> title(s));
            case "capitalize" -> Access.method(name, a -> capitalize(s));
            case "swapcase" -> Access.method(name, a -> swapcase(s));
            case "replace" -> Access.method(name, a -> replace(s, str(a.required(0, "old")), str(a.required(1, "new")),
                    a.integer(2, "count", -1)));
            case "find" -> Access.method(name, a -> find(s, a, false, false));
            case "rfind" -> Access.method(name, a -> find(s, a, true, false));
            case "index" -> Access.method(name, a -> find(s, a, false, true));
            case "rindex" -> Access.method(name, a -> find(s, a, true, true));
            case "count" -> Access.method(name, a -> count(s, str(a.required(0, "sub"))));
            case "join" -> Access.method(name, a -> join(s, a.required(0, "iterable"), null, "str.join"));
            case "isdigit", "isnumeric", "isdecimal" -> Access.method(name, a -> all(s, Character::isDigit));
            case "isalpha" -> Access.method(name, a -> all(s, Character::isLetter));
            case "isalnum" -> Access.method(name, a -> all(s, Character::isLetterOrDigit));
            case "isspace" -> Access.method(name, a -> all(s, Lexer::isSpace));
            case "islower" -> Access.method(name, a -> hasCased(s) && s.equals(Access.lower(s)));
            case "isupper" -> Access.method(name, a -> hasCased(s) && s.equals(Access.upper(s)));
            case "format" -> Access.method(name, a -> format(s, a));
            default -> null;
        };
    }

    private static String str(Object v) {
        if (!(v instanceof String s)) {
            throw new EvalError("expected str, got " + Py.typeName(v));
        }
        return s;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        if (chars == null) {
            while (left && start < end && Lexer.isSpace(s.codePointAt(start))) {
                start += Character.charCount(s.codePointAt(start));
            }
            while (right && end > start && Lexer.isSpace(s.codePointBefore(end))) {
                end -= Character.charCount(s.codePointBefore(end));
            }
        } else {
            while (left && start < end && chars.indexOf(s.codePointAt(start)) >= 0) {
                start += Character.charCount(s.codePointAt(start));
            }
            while (right && end > start && chars.indexOf(s.codePointBefore(end)) >= 0) {
                end -= Character.charCount(s.codePointBefore(end));
            }
        }
        return s.substring(start, end);
    }

    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Lexer.isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    return out;
                }
                if (maxsplit >= 0 && out.size() >= maxsplit) {
                    Budget.element(out.size(), "str.split");
                    out.add(s.substring(i));
                    return out;
                }
                int j = i;
                while (j < n && !Lexer.isSpace(s.charAt(j))) {
                    j++;
                }
                Budget.element(out.size(), "str.split");
                out.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) {
            throw new EvalError("empty separator");
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            Budget.element(out.size(), "str.split");
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        Budget.element(out.size(), "str.split");
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) {
            return split(s, sep, -1);
        }
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int end = s.length();
            while (true) {
                while (end > 0 && Lexer.isSpace(s.charAt(end - 1))) {
                    end--;
                }
                if (end == 0) {
                    break;
                }
                if (out.size() >= maxsplit) {
                    Budget.element(out.size(), "str.split");
                    out.add(s.substring(0, end));
                    break;
                }
                int j = end;
                while (j > 0 && !Lexer.isSpace(s.charAt(j - 1))) {
                    j--;
                }
                Budget.element(out.size(), "str.split");
                out.add(s.substring(j, end));
                end = j;
            }
            java.util.Collections.reverse(out); // built from the end
            return out;
        }
        if (sep.isEmpty()) {
            throw new EvalError("empty separator");
        }
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) {
                break;
            }
            Budget.element(out.size(), "str.split");
            out.add(s.substring(at + sep.length(), end));
            end = at;
        }
        Budget.element(out.size(), "str.split");
        out.add(s.substring(0, end));
        java.util.Collections.reverse(out); // built from the end
        return out;
    }

    private static List<Object> splitlines(String s, boolean keepEnds) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e
                    || c == 0x85 || c == 0x2028 || c == 0x2029) {
                int eol = i + (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1);
                Budget.element(out.size(), "str.split");
                out.add(s.substring(start, keepEnds ? eol : i));
                start = eol;
                i = eol;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            Budget.element(out.size(), "str.split");
            out.add(s.substring(start));
        }
        return out;
    }

    private static boolean affix(String s, Args a, boolean prefix) {
        Object what = a.required(0, prefix ? "prefix" : "suffix");
        int[] cps = Py.codePoints(s);
        int[] range = range(cps.length, a.get(1, "start", null), a.get(2, "end", null));
        String sub = Py.fromCodePoints(cps, range[0], Math.max(range[0], range[1]));
        if (range[0] > cps.length) {
            return false;
        }
        List<Object> options = what instanceof List<?> l ? new ArrayList<>(l) : List.of(what);
        for (Object o : options) {
            String p = str(o);
            if (prefix ? sub.startsWith(p) : sub.endsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static int[] range(int len, Object start, Object end) {
        long s = start == null ? 0 : Py.toLong(start);
        long e = end == null ? len : Py.toLong(end);
        if (s < 0) {
            s = Math.max(0, s + len);
        }
        if (e < 0) {
            e = Math.max(0, e + len);
        }
        return new int[] {(int) Math.min(s, len + 1L), (int) Math.min(e, len)};
    }

    private static long find(String s, Args a, boolean last, boolean raise) {
        String sub = str(a.required(0, "sub"));
        int[] cps = Py.codePoints(s);
        int[] range = range(cps.length, a.get(1, "start", null), a.get(2, "end", null));
        long result = -1;
        if (range[0] <= range[1]) {
            String window = Py.fromCodePoints(cps, range[0], range[1]);
            int at = last ? window.lastIndexOf(sub) : window.indexOf(sub);
            if (at >= 0) {
                result = range[0] + window.codePointCount(0, at);
            }
        }
        if (result < 0 && raise) {
            throw new EvalError("substring not found");
        }
        return result;
    }

    private static long count(String s, String sub) {
        Budget.scan(s.length(), "str.count");
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        int from = 0;
        while ((from = s.indexOf(sub, from)) >= 0) {
            n++;
            from += sub.length();
        }
        return n;
    }

    static String replace(String s, String old, String replacement, long count) {
        // the result's length, counted before it is built
        long matches;
        if (old.isEmpty()) {
            matches = s.codePointCount(0, s.length()) + 1L;
        } else {
            matches = 0;
            for (int at = s.indexOf(old); at >= 0; at = s.indexOf(old, at + old.length())) {
                matches++;
            }
        }
        if (count >= 0) {
            matches = Math.min(matches, count);
        }
        Budget.reserve(Budget.plus(s.length(), Budget.times(matches, replacement.length())), "replace");
        if (count < 0) {
            if (old.isEmpty()) {
                return insertEverywhere(s, replacement, Long.MAX_VALUE);
            }
            return s.replace(old, replacement);
        }
        if (old.isEmpty()) {
            return insertEverywhere(s, replacement, count);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        long done = 0;
        int at;
        while (done < count && (at = s.indexOf(old, from)) >= 0) {
            sb.append(s, from, at).append(replacement);
            from = at + old.length();
            done++;
        }
        return sb.append(s.substring(from)).toString();
    }

    private static String insertEverywhere(String s, String ins, long count) {
        StringBuilder sb = new StringBuilder();
        long done = 0;
        int[] cps = Py.codePoints(s);
        for (int cp : cps) {
            if (done++ < count) {
                sb.append(ins);
            }
            sb.appendCodePoint(cp);
        }
        if (done < count) {
            sb.append(ins);
        }
        return sb.toString();
    }

    private static boolean isCased(int c) {
        return Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
    }

    private static boolean hasCased(String s) {
        return s.codePoints().anyMatch(StringMethods::isCased);
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int c : Py.codePoints(s)) {
            if (isCased(c)) {
                sb.append(prevCased ? Access.lower(new String(Character.toChars(c)))
                        : new String(Character.toChars(Character.toTitleCase(c))));
                prevCased = true;
            } else {
                sb.appendCodePoint(c);
                prevCased = false;
            }
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first)))
                + Access.lower(s.substring(Character.charCount(first)));
    }

    private static String swapcase(String s) {
        StringBuilder sb = new StringBuilder();
        for (int c : Py.codePoints(s)) {
            sb.appendCodePoint(Character.isUpperCase(c) ? Character.toLowerCase(c)
                    : Character.isLowerCase(c) ? Character.toUpperCase(c) : c);
        }
        return sb.toString();
    }

    private static boolean all(String s, java.util.function.IntPredicate p) {
        return !s.isEmpty() && s.codePoints().allMatch(p);
    }

    /**
     * {@code sep.join(items)} ({@code attribute} null), or the join filter ({@code attribute} null or a path;
     * any value, as its str): the length is summed, without overflow, and checked before the result is built.
     */
    static String join(String sep, Object iterable, String attribute, String what) {
        List<Object> items = Py.iterate(iterable);
        List<String> parts = new ArrayList<>(items.size());
        long size = 0;
        for (Object o : items) {
            String part;
            if (what.equals("str.join")) {
                if (!(o instanceof String p)) {
                    throw new EvalError("sequence item: expected str instance, " + Py.typeName(o) + " found");
                }
                part = p;
            } else {
                part = Py.str(attribute == null ? o : Filters.attr(o, attribute));
            }
            size = Budget.plus(size, Budget.plus(part.length(), parts.isEmpty() ? 0 : sep.length()));
            Budget.grow(size, 0, what);
            parts.add(part);
        }
        Budget.reserve(size, what);
        StringBuilder sb = new StringBuilder((int) size);
        for (int i = 0; i < parts.size(); i++) {
            sb.append(i > 0 ? sep : "").append(parts.get(i));
        }
        return sb.toString();
    }

    /** {@code str.format} with {@code {}}, {@code {0}} and {@code {name}} fields (no format specs). */
    private static String format(String s, Args a) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                sb.append('}');
                i++;
            } else if (c == '{') {
                int close = s.indexOf('}', i);
                if (close < 0) {
                    throw new EvalError("Single '{' encountered in format string");
                }
                String field = s.substring(i + 1, close);
                if (field.contains(":") || field.contains("!")) {
                    throw new EvalError("format specs are not supported by this sandbox: {" + field + "}");
                }
                Object v;
                if (field.isEmpty()) {
                    v = a.required(auto++, "field " + (auto - 1));
                } else if (field.chars().allMatch(Character::isDigit)) {
                    v = a.required(Integer.parseInt(field), "field " + field);
                } else {
                    v = a.get(Integer.MAX_VALUE, field, Args.MISSING);
                    if (v == Args.MISSING) {
                        throw new EvalError("KeyError: " + Py.repr(field));
                    }
                }
                Budget.append(sb, Py.str(v), "str.format");
                i = close;
            } else if (c == '}') {
                throw new EvalError("Single '}' encountered in format string");
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
