package io.github.amulet4j.jinja;

import java.util.HashMap;
import java.util.Map;

/** One variable scope: the render context, a loop iteration, a macro call or a {@code with} block. */
final class Frame {

    final Map<String, Object> vars = new HashMap<>();
    final Frame parent;
    final Renderer renderer;

    Frame(Frame parent, Renderer renderer) {
        this.parent = parent;
        this.renderer = renderer;
    }

    Frame child() {
        return new Frame(this, renderer);
    }

    Object lookup(String name) {
        for (Frame f = this; f != null; f = f.parent) {
            Object v = f.vars.get(name);
            if (v != null || f.vars.containsKey(name)) {
                return v;
            }
        }
        Object global = renderer.global(name);
        return global != null ? global : Undefined.named(name);
    }
}
