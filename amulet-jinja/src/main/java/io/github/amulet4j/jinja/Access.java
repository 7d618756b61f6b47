package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Attribute access, subscripts, slices and the Python methods of strings, dicts and lists, as
 * Jinja2's {@code ImmutableSandboxedEnvironment} allows them: names starting with an underscore give
 * an undefined value and methods that mutate a list or dict are refused.
 */
final class Access {

    private static final Set<String> LIST_MUTATORS =
            Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");

    private Access() {
    }

    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        if (name.startsWith("_")) {
            return Undefined.withMessage("access to attribute '" + name + "' of '" + Py.typeName(obj)
                    + "' object is unsafe.");
        }
        if (obj instanceof Map<?, ?> map) {
            Object method = dictMethod(map, name);
            if (method != null) {
                return method;
            }
            Object key = Py.findKey(map, name);
            return key != Py.NO_KEY ? map.get(key) : Undefined.missingAttribute(obj, name);
        } else if (obj instanceof String s) {
            Object method = StringMethods.method(s, name);
            return method != null ? method : Undefined.missingAttribute(obj, name);
        } else if (obj instanceof List<?> list) {
            Object method = listMethod(list, name);
            return method != null ? method : Undefined.missingAttribute(obj, name);
        } else if (obj instanceof Namespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name) : Undefined.missingAttribute(obj, name);
        } else if (obj instanceof LoopContext loop) {
            return loop.attribute(name);
        }
        return Undefined.missingAttribute(obj, name);
    }

    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        if (obj instanceof Map<?, ?> map) {
            Object k = Py.findKey(map, key);
            if (k != Py.NO_KEY) {
                return map.get(k);
            }
        } else if (obj instanceof List<?> list && Py.isInteger(key)) {
            long i = Py.toLong(key);
            if (i < 0) {
                i += list.size();
            }
            if (i >= 0 && i < list.size()) {
                return list.get((int) i);
            }
        } else if (obj instanceof String s && Py.isInteger(key)) {
            int[] cps = Py.codePoints(s);
            long i = Py.toLong(key);
            if (i < 0) {
                i += cps.length;
            }
            if (i >= 0 && i < cps.length) {
                return Py.fromCodePoints(cps, (int) i, (int) i + 1);
            }
        }
        if (key instanceof String name) {
            Object attr = getattr(obj, name);
            if (!(attr instanceof Undefined)) {
                return attr;
            }
        }
        return Undefined.missingAttribute(obj, key);
    }

    static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        long st = step == null ? 1 : indexArg(step);
        if (st == 0) {
            throw new EvalError("slice step cannot be zero");
        }
        if (obj instanceof String s) {
            int[] cps = Py.codePoints(s);
            int[] idx = sliceIndices(cps.length, start, stop, st);
            StringBuilder sb = new StringBuilder();
            for (int i : idx) {
                sb.appendCodePoint(cps[i]);
            }
            return sb.toString();
        } else if (obj instanceof List<?> list) {
            int[] idx = sliceIndices(list.size(), start, stop, st);
            Budget.reserveElements(idx.length, "a list slice");
            List<Object> out = new ArrayList<>(idx.length);
            for (int i : idx) {
                out.add(list.get(i));
            }
            return obj instanceof PyTuple ? new PyTuple(out) : out;
        }
        throw new EvalError("'" + Py.typeName(obj) + "' object is not subscriptable");
    }

    private static long indexArg(Object v) {
        if (!Py.isInteger(v)) {
            throw new EvalError("slice indices must be integers or None, not " + Py.typeName(v));
        }
        return Py.toLong(v);
    }

    private static int[] sliceIndices(int len, Object startObj, Object stopObj, long step) {
        long lower = step < 0 ? -1 : 0;
        long upper = step < 0 ? len - 1 : len;
        long start = startObj == null ? (step < 0 ? upper : lower) : clamp(indexArg(startObj), len, lower, upper);
        long stop = stopObj == null ? (step < 0 ? lower : upper) : clamp(indexArg(stopObj), len, lower, upper);
        List<Integer> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add((int) i);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long clamp(long v, int len, long lower, long upper) {
        return v < 0 ? Math.max(v + len, lower) : Math.min(v, upper);
    }

    static JinjaCallable method(String name, Function<Args, Object> body) {
        return new JinjaCallable() {
            @Override
            public Object call(List<Object> args, Map<String, Object> kwargs) {
                return body.apply(new Args(name, args, kwargs));
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    private static Undefined unsafe(String name, Object obj) {
        return Undefined.withMessage("access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe.");
    }

    private static Object dictMethod(Map<?, ?> map, String name) {
        if (DICT_MUTATORS.contains(name)) {
            return unsafe(name, map);
        }
        return switch (name) {
            case "items" -> method(name, a -> items(map));
            case "keys" -> method(name, a -> {
                Budget.reserveElements(map.size(), "dict.keys");
                return new ArrayList<Object>(map.keySet());
            });
            case "values" -> method(name, a -> {
                Budget.reserveElements(map.size(), "dict.values");
                return new ArrayList<Object>(map.values());
            });
            case "copy" -> method(name, a -> new java.util.LinkedHashMap<Object, Object>(map));
            case "get" -> method(name, a -> {
                Object k = Py.findKey(map, a.required(0, "key"));
                return k != Py.NO_KEY ? map.get(k) : a.get(1, "default", null);
            });
            default -> null;
        };
    }

    static List<Object> items(Map<?, ?> map) {
        Budget.reserveElements(Budget.times(map.size(), 3), "dict.items");
        List<Object> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            out.add(PyTuple.of(e.getKey(), e.getValue()));
        }
        return out;
    }

    private static Object listMethod(List<?> list, String name) {
        if (LIST_MUTATORS.contains(name) && !(list instanceof PyTuple)) {
            return unsafe(name, list);
        }
        return switch (name) {
            case "count" -> method(name, a -> {
                Object x = a.required(0, "value");
                Budget.scanElements(list.size(), "list.count");
                return list.stream().filter(o -> Py.eq(o, x)).count();
            });
            case "index" -> method(name, a -> {
                Object x = a.required(0, "value");
                Budget.scanElements(list.size(), "list.index");
                for (int i = 0; i < list.size(); i++) {
                    if (Py.eq(list.get(i), x)) {
                        return (long) i;
                    }
                }
                throw new EvalError(Py.repr(x) + " is not in list");
            });
            case "copy" -> list instanceof PyTuple ? null : method(name, a -> {
                Budget.reserveElements(list.size(), "list.copy");
                return new ArrayList<Object>(list);
            });
            default -> null;
        };
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
