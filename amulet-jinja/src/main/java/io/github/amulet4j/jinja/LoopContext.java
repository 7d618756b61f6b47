package io.github.amulet4j.jinja;

import java.util.List;
import java.util.Map;

/** The {@code loop} variable inside a {@code for} block. */
final class LoopContext {

    private final List<Object> items;
    private int index0;

    LoopContext(List<Object> items) {
        this.items = items;
    }

    void advance(int newIndex0) {
        this.index0 = newIndex0;
    }

    long index() {
        return index0 + 1L;
    }

    long length() {
        return items.size();
    }

    Object attribute(String name) {
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> 1L;
            case "depth0" -> 0L;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : Undefined.withMessage("there is no previous item");
            case "nextitem" -> index0 + 1 < n ? items.get(index0 + 1) : Undefined.withMessage("there is no next item");
            case "cycle" -> new JinjaCallable() {
                @Override
                public Object call(List<Object> args, Map<String, Object> kwargs) {
                    if (args.isEmpty()) {
                        throw new EvalError("no items for cycling given");
                    }
                    return args.get(index0 % args.size());
                }

                @Override
                public String name() {
                    return "cycle";
                }
            };
            default -> Undefined.missingAttribute(this, name);
        };
    }
}
