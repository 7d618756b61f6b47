package io.github.amulet4j.djl.template;

/**
 * Jinja2's default {@code Undefined}: prints as the empty string, is false, iterates as empty, and
 * raises when an attribute or item of it is used or when it is called or used in arithmetic.
 */
final class Undefined {

    private final String message;

    private Undefined(String message) {
        this.message = message;
    }

    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined missingAttribute(Object owner, Object attribute) {
        return new Undefined("'" + Py.typeName(owner) + " object' has no attribute " + Py.repr(attribute));
    }

    static Undefined withMessage(String message) {
        return new Undefined(message);
    }

    EvalError fail() {
        return new EvalError(message);
    }

    String message() {
        return message;
    }

    @Override
    public String toString() {
        return "";
    }
}
