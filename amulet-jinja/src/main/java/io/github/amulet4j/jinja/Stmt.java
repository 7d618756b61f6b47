package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A statement node of a parsed template; rendering appends to the output and reports loop control. */
abstract class Stmt {

    static final int NORMAL = 0;
    static final int BREAK = 1;
    static final int CONTINUE = 2;

    final int line;

    Stmt(int line) {
        this.line = line;
    }

    abstract int render(Frame f, StringBuilder out);

    /** Renders statements in order, stopping at a break or continue, and gives runtime errors a location. */
    static int renderAll(List<Stmt> body, Frame f, StringBuilder out) {
        for (Stmt s : body) {
            int signal;
            try {
                Budget.step();
                signal = s.render(f, out);
                Budget.grow(out.length(), 0, "the rendered output");
            } catch (Budget.LimitError e) {
                throw new TemplateLimitException(e.getMessage(), f.renderer.sourceName, s.line, e.limitName,
                        e.limitValue);
            } catch (EvalError e) {
                throw new TemplateException(e.getMessage(), f.renderer.sourceName, s.line, e instanceof EvalError.Raised);
            } catch (StackOverflowError e) {
                throw new TemplateLimitException("the template recursed too deeply for the Java stack (limit"
                        + " javaStack: values nested too deeply, or deep macro calls: lower TemplateLimits.maxCallDepth)",
                        f.renderer.sourceName, s.line, "javaStack", 0);
            }
            if (signal != NORMAL) {
                return signal;
            }
        }
        return NORMAL;
    }

    /** An assignment target: a name, a tuple of targets, or {@code ns.attr}. */
    abstract static class Target {
        abstract void assign(Frame f, Object value);
    }

    static final class NameTarget extends Target {
        final String name;

        NameTarget(String name) {
            this.name = name;
        }

        @Override
        void assign(Frame f, Object value) {
            f.vars.put(name, value);
        }
    }

    static final class TupleTarget extends Target {
        final List<Target> items;

        TupleTarget(List<Target> items) {
            this.items = items;
        }

        @Override
        void assign(Frame f, Object value) {
            List<Object> values = Py.iterate(value);
            if (values.size() != items.size()) {
                throw new EvalError(values.size() < items.size()
                        ? "not enough values to unpack (expected " + items.size() + ", got " + values.size() + ")"
                        : "too many values to unpack (expected " + items.size() + ")");
            }
            for (int i = 0; i < items.size(); i++) {
                items.get(i).assign(f, values.get(i));
            }
        }
    }

    static final class NamespaceTarget extends Target {
        final String name;
        final String attribute;

        NamespaceTarget(String name, String attribute) {
            this.name = name;
            this.attribute = attribute;
        }

        @Override
        void assign(Frame f, Object value) {
            Object ns = f.lookup(name);
            if (!(ns instanceof Namespace n)) {
                throw new EvalError("cannot assign attribute on non-namespace object");
            }
            n.attributes.put(attribute, value);
        }
    }

    static final class Text extends Stmt {
        final String text;

        Text(int line, String text) {
            super(line);
            this.text = text;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            out.append(text);
            return NORMAL;
        }
    }

    static final class Print extends Stmt {
        final Expr expr;

        Print(int line, Expr expr) {
            super(line);
            this.expr = expr;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            Budget.append(out, Py.str(expr.eval(f)), "the rendered output");
            return NORMAL;
        }
    }

    static final class If extends Stmt {
        final List<Expr> tests;
        final List<List<Stmt>> bodies;
        final List<Stmt> otherwise;

        If(int line, List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> otherwise) {
            super(line);
            this.tests = tests;
            this.bodies = bodies;
            this.otherwise = otherwise;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            for (int i = 0; i < tests.size(); i++) {
                if (Py.truthy(tests.get(i).eval(f))) {
                    return renderAll(bodies.get(i), f, out);
                }
            }
            return renderAll(otherwise, f, out);
        }
    }

    static final class For extends Stmt {
        final Target target;
        final Expr iterable;
        final Expr filter;
        final List<Stmt> body;
        final List<Stmt> otherwise;

        For(int line, Target target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise) {
            super(line);
            this.target = target;
            this.iterable = iterable;
            this.filter = filter;
            this.body = body;
            this.otherwise = otherwise;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            List<Object> items = Py.iterate(iterable.eval(f));
            if (filter != null) {
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    Budget.step();
                    Frame probe = f.child();
                    target.assign(probe, item);
                    if (Py.truthy(filter.eval(probe))) {
                        kept.add(item);
                    }
                }
                items = kept;
            }
            if (items.isEmpty()) {
                return renderAll(otherwise, f, out);
            }
            LoopContext loop = new LoopContext(items);
            for (int i = 0; i < items.size(); i++) {
                Budget.step();
                Frame iteration = f.child();
                loop.advance(i);
                iteration.vars.put("loop", loop);
                target.assign(iteration, items.get(i));
                if (renderAll(body, iteration, out) == BREAK) {
                    break;
                }
            }
            return NORMAL;
        }
    }

    static final class Set extends Stmt {
        final Target target;
        final Expr value;

        Set(int line, Target target, Expr value) {
            super(line);
            this.target = target;
            this.value = value;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            target.assign(f, value.eval(f));
            return NORMAL;
        }
    }

    static final class SetBlock extends Stmt {
        final Target target;
        final List<Expr.Filter> filters;
        final List<Stmt> body;

        SetBlock(int line, Target target, List<Expr.Filter> filters, List<Stmt> body) {
            super(line);
            this.target = target;
            this.filters = filters;
            this.body = body;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            StringBuilder captured = new StringBuilder();
            renderAll(body, f.child(), captured);
            Object value = captured.toString();
            for (Expr.Filter filter : filters) {
                value = filter.apply(value, f);
            }
            target.assign(f, value);
            return NORMAL;
        }
    }

    static final class FilterBlock extends Stmt {
        final List<Expr.Filter> filters;
        final List<Stmt> body;

        FilterBlock(int line, List<Expr.Filter> filters, List<Stmt> body) {
            super(line);
            this.filters = filters;
            this.body = body;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            StringBuilder captured = new StringBuilder();
            renderAll(body, f.child(), captured);
            Object value = captured.toString();
            for (Expr.Filter filter : filters) {
                value = filter.apply(value, f);
            }
            Budget.append(out, Py.str(value), "the rendered output");
            return NORMAL;
        }
    }

    /** {@code with} blocks and Hugging Face's {@code generation} blocks: a body in a new scope. */
    static final class Scope extends Stmt {
        final List<Target> targets;
        final List<Expr> values;
        final List<Stmt> body;

        Scope(int line, List<Target> targets, List<Expr> values, List<Stmt> body) {
            super(line);
            this.targets = targets;
            this.values = values;
            this.body = body;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            Frame inner = f.child();
            for (int i = 0; i < targets.size(); i++) {
                targets.get(i).assign(inner, values.get(i).eval(f));
            }
            return renderAll(body, inner, out);
        }
    }

    static final class LoopControl extends Stmt {
        final int signal;

        LoopControl(int line, int signal) {
            super(line);
            this.signal = signal;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            return signal;
        }
    }

    static final class Macro extends Stmt {
        final String name;
        final List<String> params;
        final List<Expr> defaults;
        final List<Stmt> body;

        Macro(int line, String name, List<String> params, List<Expr> defaults, List<Stmt> body) {
            super(line);
            this.name = name;
            this.params = params;
            this.defaults = defaults;
            this.body = body;
        }

        @Override
        int render(Frame f, StringBuilder out) {
            f.vars.put(name, new JinjaCallable() {
                @Override
                public Object call(List<Object> args, Map<String, Object> kwargs) {
                    return invoke(f, args, kwargs);
                }

                @Override
                public String name() {
                    return name;
                }
            });
            return NORMAL;
        }

        private Object invoke(Frame definition, List<Object> args, Map<String, Object> kwargs) {
            if (args.size() > params.size()) {
                throw new EvalError("macro '" + name + "' takes not more than " + params.size() + " argument(s)");
            }
            for (String k : kwargs.keySet()) {
                if (!params.contains(k)) {
                    throw new EvalError("macro '" + name + "' takes no keyword argument '" + k + "'");
                }
            }
            Budget.enterCall(name);
            try {
                Frame call = definition.child();
                int firstDefault = params.size() - defaults.size();
                for (int i = 0; i < params.size(); i++) {
                    String p = params.get(i);
                    Object v;
                    if (i < args.size()) {
                        v = args.get(i);
                    } else if (kwargs.containsKey(p)) {
                        v = kwargs.get(p);
                    } else if (i >= firstDefault) {
                        v = defaults.get(i - firstDefault).eval(call);
                    } else {
                        v = Undefined.withMessage("parameter '" + p + "' was not provided");
                    }
                    call.vars.put(p, v);
                }
                StringBuilder captured = new StringBuilder();
                renderAll(body, call, captured);
                return captured.toString();
            } finally {
                Budget.leaveCall();
            }
        }
    }
}
