package io.github.amulet4j.jinja;

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

    /** Jinja2's message: {@code 'dict object' has no attribute 'x'}, {@code list object has no element 0}. */
    static Undefined missingAttribute(Object owner, Object attribute) {
        String type = objectTypeRepr(owner);
        return new Undefined(attribute instanceof String
                ? Py.stringRepr(type) + " has no attribute " + Py.repr(attribute)
                : type + " has no element " + Py.repr(attribute));
    }

    /** Jinja2's {@code object_type_repr}. */
    private static String objectTypeRepr(Object owner) {
        if (owner == null) {
            return "None";
        } else if (owner instanceof Namespace) {
            return "jinja2.utils.Namespace object";
        } else if (owner instanceof LoopContext) {
            return "jinja2.runtime.LoopContext object";
        }
        return Py.typeName(owner) + " object";
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
