package io.github.amulet4j.jinja;

import java.util.AbstractList;
import java.util.List;

/** An immutable Python tuple (prints as {@code (a, b)}); behaves as a list otherwise. */
final class PyTuple extends AbstractList<Object> {

    private final Object[] items;

    PyTuple(List<Object> items) {
        this.items = items.toArray();
    }

    static PyTuple of(Object... items) {
        return new PyTuple(java.util.Arrays.asList(items));
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
