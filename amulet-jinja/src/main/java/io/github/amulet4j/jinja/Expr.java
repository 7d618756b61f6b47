package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An expression node of a parsed template. */
abstract class Expr {

    final int line;

    Expr(int line) {
        this.line = line;
    }

    abstract Object eval(Frame f);

    /**
     * As {@link #eval}, but a {@code safe} or {@code escape} filter, or a {@code +} involving one, gives a
     * {@link Markup}: only the operands of {@code +} are evaluated this way.
     */
    Object evalMarkup(Frame f) {
        return eval(f);
    }

    static final class Const extends Expr {
        final Object value;

        Const(int line, Object value) {
            super(line);
            this.value = value;
        }

        @Override
        Object eval(Frame f) {
            return value;
        }
    }

    static final class Name extends Expr {
        final String name;

        Name(int line, String name) {
            super(line);
            this.name = name;
        }

        @Override
        Object eval(Frame f) {
            return f.lookup(name);
        }
    }

    static final class ListLit extends Expr {
        final List<Expr> items;
        final boolean tuple;

        ListLit(int line, List<Expr> items, boolean tuple) {
            super(line);
            this.items = items;
            this.tuple = tuple;
        }

        @Override
        Object eval(Frame f) {
            List<Object> out = new ArrayList<>(items.size());
            for (Expr e : items) {
                out.add(e.eval(f));
            }
            return tuple ? new PyTuple(out) : out;
        }
    }

    static final class DictLit extends Expr {
        final List<Expr> keys;
        final List<Expr> values;

        DictLit(int line, List<Expr> keys, List<Expr> values) {
            super(line);
            this.keys = keys;
            this.values = values;
        }

        @Override
        Object eval(Frame f) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                Object k = keys.get(i).eval(f);
                if (k instanceof List && !(k instanceof PyTuple) || k instanceof Map || k instanceof Undefined) {
                    throw new EvalError("unhashable type: '" + Py.typeName(k) + "'");
                }
                Object existing = Py.findKey(out, k);
                out.put(existing == Py.NO_KEY ? k : existing, values.get(i).eval(f));
            }
            return out;
        }
    }

    static final class GetAttr extends Expr {
        final Expr obj;
        final String name;

        GetAttr(int line, Expr obj, String name) {
            super(line);
            this.obj = obj;
            this.name = name;
        }

        @Override
        Object eval(Frame f) {
            return Access.getattr(obj.eval(f), name);
        }
    }

    static final class GetItem extends Expr {
        final Expr obj;
        final Expr key;

        GetItem(int line, Expr obj, Expr key) {
            super(line);
            this.obj = obj;
            this.key = key;
        }

        @Override
        Object eval(Frame f) {
            Object o = obj.eval(f);
            return Access.getitem(o, key.eval(f));
        }
    }

    static final class Slice extends Expr {
        final Expr obj;
        final Expr start;
        final Expr stop;
        final Expr step;

        Slice(int line, Expr obj, Expr start, Expr stop, Expr step) {
            super(line);
            this.obj = obj;
            this.start = start;
            this.stop = stop;
            this.step = step;
        }

        @Override
        Object eval(Frame f) {
            Object o = obj.eval(f);
            return Access.slice(o, start == null ? null : start.eval(f), stop == null ? null : stop.eval(f),
                    step == null ? null : step.eval(f));
        }
    }

    /** Arguments of a call, a filter or a test. */
    record CallArgs(List<Expr> positional, LinkedHashMap<String, Expr> keywords) {
        static final CallArgs NONE = new CallArgs(List.of(), new LinkedHashMap<>());

        List<Object> evalPositional(Frame f) {
            List<Object> out = new ArrayList<>(positional.size());
            for (Expr e : positional) {
                out.add(e.eval(f));
            }
            return out;
        }

        Map<String, Object> evalKeywords(Frame f) {
            Map<String, Object> out = new LinkedHashMap<>();
            keywords.forEach((k, e) -> out.put(k, e.eval(f)));
            return out;
        }
    }

    static final class Call extends Expr {
        final Expr fn;
        final CallArgs args;

        Call(int line, Expr fn, CallArgs args) {
            super(line);
            this.fn = fn;
            this.args = args;
        }

        @Override
        Object eval(Frame f) {
            Object callee = fn.eval(f);
            List<Object> pos = args.evalPositional(f);
            Map<String, Object> kw = args.evalKeywords(f);
            if (callee instanceof Undefined u) {
                throw u.fail();
            }
            if (!(callee instanceof JinjaCallable c)) {
                throw new EvalError("'" + Py.typeName(callee) + "' object is not callable");
            }
            Budget.step();
            return c.call(pos, kw);
        }
    }

    static final class Filter extends Expr {
        final Expr value;
        final String name;
        final CallArgs args;

        Filter(int line, Expr value, String name, CallArgs args) {
            super(line);
            this.value = value;
            this.name = name;
            this.args = args;
        }

        @Override
        Object eval(Frame f) {
            return apply(value.eval(f), f);
        }

        @Override
        Object evalMarkup(Frame f) {
            boolean safe = name.equals("safe");
            if (!safe && !name.equals("escape") && !name.equals("e")) {
                return eval(f);
            }
            Object v = value.evalMarkup(f);
            if (v instanceof Markup) {
                return v; // already safe: never escaped twice
            }
            String text = Py.str(apply(v, f));
            return new Markup(text);
        }

        Object apply(Object v, Frame f) {
            List<Object> positional = args.evalPositional(f);
            Map<String, Object> keywords = args.evalKeywords(f);
            Budget.step();
            return Filters.apply(name, v, positional, keywords);
        }
    }

    static final class Test extends Expr {
        final Expr value;
        final String name;
        final CallArgs args;

        Test(int line, Expr value, String name, CallArgs args) {
            super(line);
            this.value = value;
            this.name = name;
            this.args = args;
        }

        @Override
        Object eval(Frame f) {
            Object v = value.eval(f);
            List<Object> positional = args.evalPositional(f);
            Map<String, Object> keywords = args.evalKeywords(f);
            Budget.step();
            return Tests.apply(name, v, positional, keywords);
        }
    }

    static final class Not extends Expr {
        final Expr operand;

        Not(int line, Expr operand) {
            super(line);
            this.operand = operand;
        }

        @Override
        Object eval(Frame f) {
            return !Py.truthy(operand.eval(f));
        }
    }

    static final class And extends Expr {
        final Expr left;
        final Expr right;

        And(int line, Expr left, Expr right) {
            super(line);
            this.left = left;
            this.right = right;
        }

        @Override
        Object eval(Frame f) {
            Object l = left.eval(f);
            return Py.truthy(l) ? right.eval(f) : l;
        }
    }

    static final class Or extends Expr {
        final Expr left;
        final Expr right;

        Or(int line, Expr left, Expr right) {
            super(line);
            this.left = left;
            this.right = right;
        }

        @Override
        Object eval(Frame f) {
            Object l = left.eval(f);
            return Py.truthy(l) ? l : right.eval(f);
        }
    }

    static final class Unary extends Expr {
        final String op;
        final Expr operand;

        Unary(int line, String op, Expr operand) {
            super(line);
            this.op = op;
            this.operand = operand;
        }

        @Override
        Object eval(Frame f) {
            Object v = operand.eval(f);
            return op.equals("-") ? Py.neg(v) : Py.pos(v);
        }
    }

    static final class Binary extends Expr {
        final String op;
        final Expr left;
        final Expr right;

        Binary(int line, String op, Expr left, Expr right) {
            super(line);
            this.op = op;
            this.left = left;
            this.right = right;
        }

        @Override
        Object evalMarkup(Frame f) {
            return op.equals("+") ? Markup.add(left.evalMarkup(f), right.evalMarkup(f)) : eval(f);
        }

        @Override
        Object eval(Frame f) {
            if (op.equals("+")) {
                return Markup.plain(evalMarkup(f));
            }
            Object a = left.eval(f);
            Object b = right.eval(f);
            return switch (op) {
                case "-" -> Py.sub(a, b);
                case "*" -> Py.mul(a, b);
                case "/" -> Py.div(a, b);
                case "//" -> Py.floorDiv(a, b);
                case "%" -> Py.mod(a, b);
                case "**" -> Py.pow(a, b);
                default -> throw new IllegalStateException(op);
            };
        }
    }

    static final class Concat extends Expr {
        final List<Expr> parts;

        Concat(int line, List<Expr> parts) {
            super(line);
            this.parts = parts;
        }

        @Override
        Object eval(Frame f) {
            List<String> strings = new ArrayList<>(parts.size());
            long size = 0;
            for (Expr e : parts) {
                String s = Py.str(e.eval(f));
                size = Budget.plus(size, s.length());
                strings.add(s);
            }
            Budget.reserve(size, "string concatenation (~)");
            StringBuilder sb = new StringBuilder((int) size);
            for (String s : strings) {
                sb.append(s);
            }
            return sb.toString();
        }
    }

    static final class Compare extends Expr {
        final Expr first;
        final List<String> ops;
        final List<Expr> operands;

        Compare(int line, Expr first, List<String> ops, List<Expr> operands) {
            super(line);
            this.first = first;
            this.ops = ops;
            this.operands = operands;
        }

        @Override
        Object eval(Frame f) {
            Object a = first.eval(f);
            for (int i = 0; i < ops.size(); i++) {
                Object b = operands.get(i).eval(f);
                String op = ops.get(i);
                boolean ok = switch (op) {
                    case "==" -> Py.eq(a, b);
                    case "!=" -> !Py.eq(a, b);
                    case "<" -> Py.compare(a, b, op) < 0;
                    case "<=" -> Py.compare(a, b, op) <= 0;
                    case ">" -> Py.compare(a, b, op) > 0;
                    case ">=" -> Py.compare(a, b, op) >= 0;
                    case "in" -> Py.contains(b, a);
                    case "notin" -> !Py.contains(b, a);
                    default -> throw new IllegalStateException(op);
                };
                if (!ok) {
                    return false;
                }
                a = b;
            }
            return true;
        }
    }

    static final class CondExpr extends Expr {
        final Expr test;
        final Expr then;
        final Expr otherwise;

        CondExpr(int line, Expr test, Expr then, Expr otherwise) {
            super(line);
            this.test = test;
            this.then = then;
            this.otherwise = otherwise;
        }

        @Override
        Object eval(Frame f) {
            if (Py.truthy(test.eval(f))) {
                return then.eval(f);
            }
            return otherwise == null
                    ? Undefined.withMessage("the inline if-expression on line " + line + " evaluated to false and no else section was defined.")
                    : otherwise.eval(f);
        }
    }
}
