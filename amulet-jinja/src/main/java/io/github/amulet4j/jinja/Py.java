package io.github.amulet4j.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python semantics over the closed value model of the sandbox: {@code null} (None), {@link Boolean},
 * {@link Long}, {@link Double}, {@link String}, {@link List} (and {@link PyTuple}), {@link Map} (ordered),
 * {@link Namespace}, {@link Undefined}, {@link LoopContext} and {@link JinjaCallable}. No other Java type
 * ever reaches a template.
 */
final class Py {

    private Py() {
    }

    // ---------------------------------------------------------------- types

    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        } else if (v instanceof Boolean) {
            return "bool";
        } else if (v instanceof Long) {
            return "int";
        } else if (v instanceof Double) {
            return "float";
        } else if (v instanceof String) {
            return "str";
        } else if (v instanceof PyTuple) {
            return "tuple";
        } else if (v instanceof List) {
            return "list";
        } else if (v instanceof Map) {
            return "dict";
        } else if (v instanceof Namespace) {
            return "Namespace";
        } else if (v instanceof Undefined) {
            return "Undefined";
        } else if (v instanceof LoopContext) {
            return "LoopContext";
        } else if (v instanceof JinjaCallable) {
            return "function";
        } else if (v instanceof PyIterator it) {
            return it.typeName();
        }
        return "object";
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).longValue();
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).doubleValue();
    }

    // ---------------------------------------------------------------- str / repr

    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        } else if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof Boolean b) {
            return b ? "True" : "False";
        } else if (v instanceof Long l) {
            return Long.toString(l);
        } else if (v instanceof Double d) {
            return floatRepr(d);
        } else if (v instanceof String s) {
            return stringRepr(s);
        } else if (v instanceof PyTuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) {
                Budget.append(sb, i > 0 ? ", " : "", "repr()");
                Budget.append(sb, repr(t.get(i)), "repr()");
            }
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        } else if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                Budget.append(sb, i > 0 ? ", " : "", "repr()");
                Budget.append(sb, repr(list.get(i)), "repr()");
            }
            return sb.append(']').toString();
        } else if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Budget.append(sb, first ? "" : ", ", "repr()");
                Budget.append(sb, repr(e.getKey()), "repr()");
                Budget.append(sb, ": ", "repr()");
                Budget.append(sb, repr(e.getValue()), "repr()");
                first = false;
            }
            return sb.append('}').toString();
        } else if (v instanceof Namespace ns) {
            return "<Namespace " + repr(ns.attributes) + ">";
        } else if (v instanceof Undefined) {
            return "Undefined";
        } else if (v instanceof JinjaCallable c) {
            return "<function " + c.name() + ">";
        } else if (v instanceof LoopContext loop) {
            return "<LoopContext " + loop.index() + "/" + loop.length() + ">";
        } else if (v instanceof PyIterator it) {
            return "<" + it.typeName() + " object>";
        }
        return "<object>";
    }

    /** Python's repr of a float: the shortest decimal that reads back as the same double. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        } else if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        } else if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) {
                shortest = r;
                break;
            }
        }
        shortest = shortest.stripTrailingZeros();
        String sign = shortest.signum() < 0 ? "-" : "";
        shortest = shortest.abs();
        String digits = shortest.unscaledValue().toString();
        int exp = digits.length() - 1 - shortest.scale();
        if (exp >= -4 && exp < 16) {
            String plain = shortest.toPlainString();
            return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
        }
        String mantissa = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        String e = Integer.toString(Math.abs(exp));
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
    }

    static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        // an escape is at most 10 characters per code point: check the growth before it happens
        long worst = Budget.times(s.length(), 10);
        if (worst > Budget.current().limits.maxValueSize()) {
            int[] cps = codePoints(s);
            long exact = 2;
            for (int c : cps) {
                exact = Budget.plus(exact, c == quote || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 2
                        : isPrintable(c) ? Character.charCount(c) : c < 0x100 ? 4 : c < 0x10000 ? 6 : 10);
            }
            Budget.grow(exact, 0, "repr() of a string");
        }
        s.codePoints().forEach(c -> {
            if (c == quote || c == '\\') {
                sb.append('\\').appendCodePoint(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (isPrintable(c)) {
                sb.appendCodePoint(c);
            } else if (c < 0x100) {
                hex(sb.append("\\x"), c, 2);
            } else if (c < 0x10000) {
                hex(sb.append("\\u"), c, 4);
            } else {
                hex(sb.append("\\U"), c, 8);
            }
        });
        return sb.append(quote).toString();
    }

    /** {@code value} as {@code digits} lowercase hex digits (String.format's {@code %0Nx}, without its cost). */
    private static void hex(StringBuilder sb, int value, int digits) {
        for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
            sb.append(Character.forDigit((value >>> shift) & 0xf, 16));
        }
    }

    private static boolean isPrintable(int c) {
        if (c == ' ') {
            return true;
        }
        int t = Character.getType(c);
        return !(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                || t == Character.PRIVATE_USE || t == Character.UNASSIGNED || t == Character.LINE_SEPARATOR
                || t == Character.PARAGRAPH_SEPARATOR || t == Character.SPACE_SEPARATOR);
    }

    // ---------------------------------------------------------------- truth, equality, order

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        } else if (v instanceof Boolean b) {
            return b;
        } else if (v instanceof Long l) {
            return l != 0;
        } else if (v instanceof Double d) {
            return d != 0;
        } else if (v instanceof String s) {
            return !s.isEmpty();
        } else if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        } else if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        } else if (a == null || b == null) {
            return false;
        } else if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        } else if (a instanceof String x && b instanceof String y) {
            Budget.scan(Math.min(x.length(), y.length()), "comparing strings");
            return a.equals(b);
        } else if (a instanceof List<?> x && b instanceof List<?> y) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || x.size() != y.size()) {
                return false;
            }
            Budget.scanElements(x.size(), "comparing lists");
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        } else if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            Budget.scanElements(x.size(), "comparing dicts");
            for (Map.Entry<?, ?> e : x.entrySet()) {
                Object key = findKey(y, e.getKey());
                if (key == NO_KEY || !eq(e.getValue(), y.get(key))) {
                    return false;
                }
            }
            return true;
        } else if (a instanceof Undefined && b instanceof Undefined) {
            return true;
        }
        return false;
    }

    static final Object NO_KEY = new Object();

    /** The key of {@code map} equal (in Python's sense) to {@code key}, or {@link #NO_KEY}. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) {
            return key;
        }
        if (isNumber(key)) {
            Budget.scanElements(map.size(), "looking up a number key");
            for (Object k : map.keySet()) {
                if (isNumber(k) && eq(k, key)) {
                    return k;
                }
            }
        }
        return NO_KEY;
    }

    static int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return Double.compare(toDouble(a), toDouble(b));
            }
            return Long.compare(toLong(a), toLong(b));
        } else if (a instanceof String x && b instanceof String y) {
            Budget.scan(Math.min(x.length(), y.length()), "comparing strings");
            return compareCodePoints(x, y);
        } else if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            Budget.scanElements(Math.min(x.size(), y.size()), "comparing lists");
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return compare(x.get(i), y.get(i), op);
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        if (a instanceof Undefined u) {
            throw u.fail();
        } else if (b instanceof Undefined u) {
            throw u.fail();
        }
        throw new EvalError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                throw new EvalError("'in <string>' requires string as left operand, not " + typeName(item));
            }
            Budget.scan(s.length(), "'in' on a string");
            return s.contains(sub);
        } else if (container instanceof List<?> list) {
            Budget.scanElements(list.size(), "'in' on a list");
            for (Object o : list) {
                if (eq(o, item)) {
                    return true;
                }
            }
            return false;
        } else if (container instanceof Map<?, ?> map) {
            return findKey(map, item) != NO_KEY;
        } else if (container instanceof Undefined) {
            return false;
        } else if (container instanceof PyIterator it) {
            while (it.hasNext()) { // consumes up to the match, as Python's `in` does
                if (eq(it.next(), item)) {
                    return true;
                }
            }
            return false;
        }
        throw new EvalError("argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---------------------------------------------------------------- iteration and length

    static List<Object> iterate(Object v) {
        if (v instanceof List<?> list) {
            Budget.reserveElements(list.size(), "copying a list to iterate it");
            return new ArrayList<>(list);
        } else if (v instanceof Map<?, ?> map) {
            Budget.reserveElements(map.size(), "copying a dict's keys to iterate them");
            return new ArrayList<>(map.keySet());
        } else if (v instanceof String s) {
            Budget.reserveElements(s.length(), "splitting a string into characters");
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
            return chars;
        } else if (v instanceof Undefined) {
            return new ArrayList<>();
        } else if (v instanceof PyIterator it) {
            return it.drain();
        }
        throw new EvalError("'" + typeName(v) + "' object is not iterable");
    }

    static long length(Object v) {
        if (v instanceof String s) {
            Budget.scan(s.length(), "the length of a string");
            return s.codePointCount(0, s.length());
        } else if (v instanceof Collection<?> c) {
            return c.size();
        } else if (v instanceof Map<?, ?> m) {
            return m.size();
        } else if (v instanceof Undefined) {
            return 0;
        } else if (v instanceof Namespace ns) {
            return ns.attributes.size();
        }
        throw new EvalError("object of type '" + typeName(v) + "' has no len()");
    }

    // ---------------------------------------------------------------- arithmetic

    private static EvalError unsupported(String op, Object a, Object b) {
        if (a instanceof Undefined u) {
            return u.fail();
        } else if (b instanceof Undefined u) {
            return u.fail();
        }
        return new EvalError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static Object add(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) + toDouble(b);
            }
            return checked(BigInteger.valueOf(toLong(a)).add(BigInteger.valueOf(toLong(b))));
        } else if (a instanceof String x && b instanceof String y) {
            return concat(x, y, "string concatenation (+)");
        } else if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            Budget.reserveElements(Budget.plus(x.size(), y.size()), "list concatenation (+)");
            List<Object> out = new ArrayList<>(x);
            out.addAll(y);
            return a instanceof PyTuple ? new PyTuple(out) : out;
        } else if (a instanceof String && !(b instanceof Undefined)) {
            throw new EvalError("can only concatenate str (not \"" + typeName(b) + "\") to str");
        }
        throw unsupported("+", a, b);
    }

    static Object sub(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) - toDouble(b);
            }
            return checked(BigInteger.valueOf(toLong(a)).subtract(BigInteger.valueOf(toLong(b))));
        }
        throw unsupported("-", a, b);
    }

    static Object mul(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) * toDouble(b);
            }
            return checked(BigInteger.valueOf(toLong(a)).multiply(BigInteger.valueOf(toLong(b))));
        } else if (isInteger(a) && (b instanceof String || b instanceof List)) {
            return mul(b, a);
        } else if (a instanceof String s && isInteger(b)) {
            long n = Math.max(0, toLong(b));
            Budget.reserve(Budget.times(n, s.length()), "string repetition (*)");
            return s.isEmpty() ? s : s.repeat((int) n);
        } else if (a instanceof List<?> list && isInteger(b)) {
            long n = Math.max(0, toLong(b));
            long size = Budget.times(n, list.size());
            Budget.reserveElements(size, "list repetition (*)");
            List<Object> out = new ArrayList<>((int) size);
            for (long i = 0; i < n && !list.isEmpty(); i++) {
                out.addAll(list);
            }
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        throw unsupported("*", a, b);
    }

    static Object div(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            double y = toDouble(b);
            if (y == 0) {
                throw new EvalError("division by zero");
            }
            return toDouble(a) / y;
        }
        throw unsupported("/", a, b);
    }

    static Object floorDiv(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double y = toDouble(b);
                if (y == 0) {
                    throw new EvalError("float floor division by zero");
                }
                return Math.floor(toDouble(a) / y);
            }
            long y = toLong(b);
            if (y == 0) {
                throw new EvalError("integer division or modulo by zero");
            }
            return Math.floorDiv(toLong(a), y);
        }
        throw unsupported("//", a, b);
    }

    static Object mod(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double x = toDouble(a);
                double y = toDouble(b);
                if (y == 0) {
                    throw new EvalError("float modulo");
                }
                double m = x % y;
                if (m != 0 && ((m < 0) != (y < 0))) {
                    m += y;
                }
                return m == 0 ? Math.copySign(0.0, y) : m;
            }
            long y = toLong(b);
            if (y == 0) {
                throw new EvalError("integer division or modulo by zero");
            }
            return Math.floorMod(toLong(a), y);
        } else if (a instanceof String) {
            throw new EvalError("printf-style string formatting with % is not supported by this sandbox");
        }
        throw unsupported("%", a, b);
    }

    static Object pow(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double || toLong(b) < 0) {
                return Math.pow(toDouble(a), toDouble(b));
            }
            long e = toLong(b);
            if (e > 4096) {
                throw new EvalError("exponent too large");
            }
            return checked(BigInteger.valueOf(toLong(a)).pow((int) e));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object neg(Object a) {
        if (a instanceof Double d) {
            return -d;
        } else if (isInteger(a)) {
            return checked(BigInteger.valueOf(toLong(a)).negate());
        } else if (a instanceof Undefined u) {
            throw u.fail();
        }
        throw new EvalError("bad operand type for unary -: '" + typeName(a) + "'");
    }

    static Object pos(Object a) {
        if (a instanceof Double) {
            return a;
        } else if (isInteger(a)) {
            return toLong(a);
        } else if (a instanceof Undefined u) {
            throw u.fail();
        }
        throw new EvalError("bad operand type for unary +: '" + typeName(a) + "'");
    }

    /** {@code x + y}, checked against the template's limits before the result is allocated. */
    static String concat(String x, String y, String what) {
        Budget.reserve(Budget.plus(x.length(), y.length()), what);
        return x + y;
    }

    private static Long checked(BigInteger v) {
        if (v.bitLength() > 63) {
            throw new EvalError("integer result out of the supported 64-bit range");
        }
        return v.longValue();
    }

    // ---------------------------------------------------------------- strings as code points

    static int[] codePoints(String s) {
        Budget.reserve(s.length(), "a string's code points");
        return s.codePoints().toArray();
    }

    static String fromCodePoints(int[] cps, int from, int to) {
        return new String(cps, from, to - from);
    }
}
