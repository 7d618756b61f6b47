package io.github.amulet4j.jinja;

import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The state of one render: the template's name and the clock for {@code strftime_now} (its limits: {@link Budget}). */
final class Renderer {

    static final int MAX_RANGE = 100_000;

    final String sourceName;
    private final Clock clock;

    Renderer(String sourceName, Clock clock) {
        this.sourceName = sourceName;
        this.clock = clock;
    }

    /** The globals of Hugging Face's template environment (and Jinja2's own that templates use). */
    Object global(String name) {
        return switch (name) {
            case "namespace" -> Access.method(name, a -> {
                Namespace ns = new Namespace();
                for (int i = 0; i < a.positionalCount(); i++) {
                    Object init = a.get(i, null, null);
                    if (!(init instanceof Map<?, ?> m)) {
                        throw new EvalError("namespace() positional arguments must be mappings");
                    }
                    m.forEach((k, v) -> ns.attributes.put(Py.str(k), v));
                }
                ns.attributes.putAll(a.kwargs());
                return ns;
            });
            case "range" -> Access.method(name, this::range);
            case "dict" -> Access.method(name, a -> new java.util.LinkedHashMap<Object, Object>(a.kwargs()));
            case "raise_exception" -> Access.method(name, a -> {
                throw new EvalError.Raised(Py.str(a.required(0, "message")));
            });
            case "strftime_now" -> Access.method(name, a -> Strftime.format(LocalDateTime.now(clock),
                    Py.str(a.required(0, "format"))));
            default -> null;
        };
    }

    private Object range(Args a) {
        long start = 0;
        long stop;
        long step = 1;
        if (a.positionalCount() == 1) {
            stop = a.integer(0, "stop", 0);
        } else {
            start = a.integer(0, "start", 0);
            stop = a.integer(1, "stop", 0);
            step = a.integer(2, "step", 1);
        }
        if (step == 0) {
            throw new EvalError("range() arg 3 must not be zero");
        }
        // the length, computed without overflow: ceil((stop - start) / step) when positive
        java.math.BigInteger span = java.math.BigInteger.valueOf(stop).subtract(java.math.BigInteger.valueOf(start));
        java.math.BigInteger bigStep = java.math.BigInteger.valueOf(step);
        java.math.BigInteger count = span.signum() != bigStep.signum() || span.signum() == 0
                ? java.math.BigInteger.ZERO
                : span.abs().add(bigStep.abs()).subtract(java.math.BigInteger.ONE).divide(bigStep.abs());
        if (count.compareTo(java.math.BigInteger.valueOf(MAX_RANGE)) > 0) {
            throw new Budget.LimitError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE
                    + ", limit maxRange); this one has " + count + " elements", "maxRange", MAX_RANGE);
        }
        int n = count.intValue();
        Budget.reserveElements(n, "range()");
        List<Object> out = new ArrayList<>(n);
        long i = start;
        for (int k = 0; k < n; k++, i += step) {
            out.add(i);
        }
        return out;
    }
}
