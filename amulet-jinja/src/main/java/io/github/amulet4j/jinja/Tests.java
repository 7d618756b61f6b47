package io.github.amulet4j.jinja;

import java.util.List;
import java.util.Map;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is equalto y}, ...). */
final class Tests {

    private Tests() {
    }

    static boolean exists(String name) {
        return switch (name) {
            case "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string",
                 "mapping", "iterable", "sequence", "callable", "equalto", "eq", "==", "ne", "!=", "lt", "<",
                 "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in", "odd", "even", "divisibleby",
                 "sameas", "lower", "upper", "escaped", "filter", "test" -> true;
            default -> false;
        };
    }

    static boolean apply(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args(name, args, kwargs);
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "false" -> Boolean.FALSE.equals(v);
            case "true" -> Boolean.TRUE.equals(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "number" -> Py.isNumber(v);
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map;
            case "iterable" -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined
                    || v instanceof PyIterator;
            case "sequence" -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
            case "callable" -> v instanceof JinjaCallable;
            case "equalto", "eq", "==" -> Py.eq(v, a.required(0, "other"));
            case "ne", "!=" -> !Py.eq(v, a.required(0, "other"));
            case "lt", "<", "lessthan" -> Py.compare(v, a.required(0, "other"), "<") < 0;
            case "le", "<=" -> Py.compare(v, a.required(0, "other"), "<=") <= 0;
            case "gt", ">", "greaterthan" -> Py.compare(v, a.required(0, "other"), ">") > 0;
            case "ge", ">=" -> Py.compare(v, a.required(0, "other"), ">=") >= 0;
            case "in" -> Py.contains(a.required(0, "seq"), v);
            case "odd" -> Py.toLong(integer(v, name)) % 2 != 0;
            case "even" -> Py.toLong(integer(v, name)) % 2 == 0;
            case "divisibleby" -> Py.toLong(integer(v, name)) % Py.toLong(integer(a.required(0, "num"), name)) == 0;
            case "sameas" -> sameAs(v, a.required(0, "other"));
            case "lower" -> Py.str(v).equals(Access.lower(Py.str(v)));
            case "upper" -> Py.str(v).equals(Access.upper(Py.str(v)));
            case "escaped" -> false;
            case "filter" -> v instanceof String s && Filters.exists(s);
            case "test" -> v instanceof String s && exists(s);
            default -> throw new EvalError("No test named '" + name + "'.");
        };
    }

    private static Object integer(Object v, String test) {
        if (!Py.isInteger(v)) {
            if (v instanceof Undefined u) {
                throw u.fail();
            }
            throw new EvalError("test '" + test + "' needs an integer, got " + Py.typeName(v));
        }
        return v;
    }

    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
            return a == b || (a != null && a.equals(b));
        }
        if (a instanceof Long x && b instanceof Long y) {
            return x.equals(y) && x >= -5 && x <= 256;
        }
        return a == b;
    }
}
