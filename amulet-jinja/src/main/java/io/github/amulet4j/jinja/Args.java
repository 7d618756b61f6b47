package io.github.amulet4j.jinja;

import java.util.List;
import java.util.Map;

/** Positional-or-keyword argument access for built-in callables, with Python-like errors. */
final class Args {

    static final Object MISSING = new Object();

    private final String function;
    private final List<Object> args;
    private final Map<String, Object> kwargs;

    Args(String function, List<Object> args, Map<String, Object> kwargs) {
        this.function = function;
        this.args = args;
        this.kwargs = kwargs;
    }

    Map<String, Object> kwargs() {
        return kwargs;
    }

    int positionalCount() {
        return args.size();
    }

    /** The argument at {@code index} or named {@code name}, or {@code fallback}. */
    Object get(int index, String name, Object fallback) {
        if (index < args.size()) {
            return args.get(index);
        }
        if (name != null && kwargs.containsKey(name)) {
            return kwargs.get(name);
        }
        return fallback;
    }

    Object required(int index, String name) {
        Object v = get(index, name, MISSING);
        if (v == MISSING) {
            throw new EvalError(function + "() missing required argument '" + name + "' (pos " + (index + 1) + ")");
        }
        return v;
    }

    String string(int index, String name, String fallback) {
        Object v = get(index, name, MISSING);
        if (v == MISSING || v == null) {
            return fallback;
        }
        if (!(v instanceof String s)) {
            throw new EvalError(function + "() argument '" + name + "' must be str, not " + Py.typeName(v));
        }
        return s;
    }

    long integer(int index, String name, long fallback) {
        Object v = get(index, name, MISSING);
        if (v == MISSING || v == null) {
            return fallback;
        }
        if (!Py.isInteger(v)) {
            throw new EvalError(function + "() argument '" + name + "' must be int, not " + Py.typeName(v));
        }
        return Py.toLong(v);
    }

    boolean bool(int index, String name, boolean fallback) {
        Object v = get(index, name, MISSING);
        return v == MISSING ? fallback : Py.truthy(v);
    }

    void atMost(int positional) {
        if (args.size() > positional) {
            throw new EvalError(function + "() takes at most " + positional + " positional arguments ("
                    + args.size() + " given)");
        }
    }
}
