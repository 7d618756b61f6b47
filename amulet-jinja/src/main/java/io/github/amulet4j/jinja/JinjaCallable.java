package io.github.amulet4j.jinja;

import java.util.List;
import java.util.Map;

/** Anything a template may call: a macro, a global function or a bound method of a sandbox value. */
interface JinjaCallable {

    Object call(List<Object> args, Map<String, Object> kwargs);

    /** The name shown when the callable is printed. */
    String name();
}
