package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A one-shot Python iterator, as Jinja2's {@code map}, {@code select}, {@code selectattr}, {@code unique},
 * {@code batch} and {@code items} filters return (generators) and {@code reverse} returns for a list: always
 * true, without {@code len()}, not JSON serializable, and empty once consumed. Its source is evaluated
 * lazily, on the first use, as a Python generator body runs on the first {@code next()}.
 */
final class PyIterator {

    private final String typeName;
    private Supplier<Iterator<Object>> source;
    private Iterator<Object> items;

    private PyIterator(String typeName, Supplier<Iterator<Object>> source) {
        this.typeName = typeName;
        this.source = source;
    }

    /** A generator yielding the elements of the list {@code source} computes on first use. */
    static PyIterator generator(Supplier<List<Object>> source) {
        return new PyIterator("generator", () -> source.get().iterator());
    }

    /** A generator yielding {@code f} of each element of {@code input} ({@code f} runs per element). */
    static PyIterator mapping(Supplier<List<Object>> input, Function<Object, Object> f) {
        return new PyIterator("generator", () -> {
            Iterator<Object> in = input.get().iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return in.hasNext();
                }

                @Override
                public Object next() {
                    return f.apply(in.next());
                }
            };
        });
    }

    /** An iterator of the given Python type over {@code values}. */
    static PyIterator over(String typeName, List<Object> values) {
        return new PyIterator(typeName, values::iterator);
    }

    String typeName() {
        return typeName;
    }

    private Iterator<Object> items() {
        if (items == null) {
            items = source.get();
            source = null;
        }
        return items;
    }

    boolean hasNext() {
        return items().hasNext();
    }

    Object next() {
        return items().next();
    }

    /** The remaining elements; the iterator is empty afterwards. */
    List<Object> drain() {
        List<Object> out = new ArrayList<>();
        Iterator<Object> it = items();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }
}
