package io.github.amulet4j.jinja;

/**
 * The {@link TemplateLimits} of the render running on this thread, and what it has spent: steps, characters and
 * elements built. Sizes are checked before the value is allocated, with saturating arithmetic, so no size
 * computation can pass a check by overflowing. Outside a render the default limits apply (without a running
 * count).
 */
final class Budget {

    private static final ThreadLocal<Budget> CURRENT = new ThreadLocal<>();
    /** What one list element counts against maxWork, in characters. */
    static final int ELEMENT_COST = 8;
    /** Scans shorter than this are not counted (their cost is bounded by maxSteps). */
    private static final int SCAN_FREE = 256;

    final TemplateLimits limits;
    private long steps;
    private long allocated;
    int callDepth;

    Budget(TemplateLimits limits) {
        this.limits = limits;
    }

    static Budget current() {
        Budget b = CURRENT.get();
        return b != null ? b : new Budget(TemplateLimits.defaults());
    }

    /** Makes {@code b} the current budget; returns the previous one, for {@link #restore}. */
    static Budget enter(Budget b) {
        Budget previous = CURRENT.get();
        CURRENT.set(b);
        return previous;
    }

    static void restore(Budget previous) {
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** An error naming a limit; the statement that catches it adds the template's name and line. */
    static final class LimitError extends EvalError {
        private static final long serialVersionUID = 1L;
        final String limitName;
        final long limitValue;

        LimitError(String message, String limitName, long limitValue) {
            super(message);
            this.limitName = limitName;
            this.limitValue = limitValue;
        }
    }

    // ------------------------------------------------------------- saturating arithmetic

    /** {@code a * b} for non-negative operands, or {@link Long#MAX_VALUE} when it overflows. */
    static long times(long a, long b) {
        if (a <= 0 || b <= 0) {
            return 0;
        }
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return high != 0 || low < 0 ? Long.MAX_VALUE : low;
    }

    /** {@code a + b} for non-negative operands, or {@link Long#MAX_VALUE} when it overflows. */
    static long plus(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    // ------------------------------------------------------------- the checks

    /** One step: a statement, a loop iteration, a call, a filter or test application. */
    static void step() {
        Budget b = CURRENT.get();
        if (b != null && ++b.steps > b.limits.maxSteps()) {
            throw new LimitError("step limit: the template ran more than maxSteps = " + b.limits.maxSteps()
                    + " steps (statements, loop iterations, calls, filters; TemplateLimits)", "maxSteps",
                    b.limits.maxSteps());
        }
    }

    /**
     * Checks, before it is allocated, a value of {@code size} characters or elements that {@code what} is about
     * to build, against maxValueSize and, with everything built before it, maxWork.
     */
    static void reserve(long size, String what) {
        Budget b = current();
        long max = b.limits.maxValueSize();
        if (size > max) {
            throw new LimitError("value-size limit: " + what + " would build " + describe(size)
                    + " characters or elements, more than maxValueSize = " + max + " (TemplateLimits)",
                    "maxValueSize", max);
        }
        b.charge(size, what);
    }

    /** Checks, before it is allocated, a list of {@code size} elements against maxListSize and maxWork. */
    static void reserveElements(long size, String what) {
        Budget b = current();
        long max = b.limits.maxListSize();
        if (size > max) {
            throw new LimitError("list-size limit: " + what + " would build a list of " + describe(size)
                    + " elements, more than maxListSize = " + max + " (TemplateLimits)", "maxListSize", max);
        }
        b.charge(times(size, ELEMENT_COST), what);
    }

    /** Checks that a list of {@code size} elements may get one more (for lists built element by element). */
    static void element(int size, String what) {
        Budget b = current();
        if (size >= b.limits.maxListSize()) {
            throw new LimitError("list-size limit: " + what + " would build a list of more than maxListSize = "
                    + b.limits.maxListSize() + " elements (TemplateLimits)", "maxListSize", b.limits.maxListSize());
        }
    }

    /** Counts a scan of {@code length} characters (a search, a comparison) against maxWork. */
    static void scan(long length, String what) {
        if (length >= SCAN_FREE) {
            Budget b = CURRENT.get();
            if (b != null) {
                b.charge(length, what);
            }
        }
    }

    /** Counts a scan of {@code size} list or dict elements against maxWork. */
    static void scanElements(long size, String what) {
        scan(times(size, ELEMENT_COST), what);
    }

    private void charge(long size, String what) {
        long total = plus(allocated, size);
        if (total > limits.maxWork()) {
            throw new LimitError("work limit: " + what + " would bring the characters the template built or"
                    + " scanned to " + describe(total) + ", more than maxWork = " + limits.maxWork()
                    + " (TemplateLimits)", "maxWork", limits.maxWork());
        }
        allocated = total;
    }

    /** Checks that appending {@code add} characters to a text of {@code length} stays within maxValueSize. */
    static void grow(long length, long add, String what) {
        long max = current().limits.maxValueSize();
        long size = plus(length, add);
        if (size > max) {
            throw new LimitError("value-size limit: " + what + " would grow to " + describe(size)
                    + " characters, more than maxValueSize = " + max + " (TemplateLimits)", "maxValueSize", max);
        }
    }

    /** Appends {@code piece} to {@code sb} after checking the result against maxValueSize. */
    static StringBuilder append(StringBuilder sb, CharSequence piece, String what) {
        grow(sb.length(), piece.length(), what);
        return sb.append(piece);
    }

    private static String describe(long size) {
        return size == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : Long.toString(size);
    }

    /** Enters a macro call, checking maxCallDepth; pair with {@link #leaveCall()}. */
    static void enterCall(String macro) {
        Budget b = current();
        if (++b.callDepth > b.limits.maxCallDepth()) {
            b.callDepth--;
            throw new LimitError("call-depth limit: macro '" + macro + "' nested more than maxCallDepth = "
                    + b.limits.maxCallDepth() + " calls deep (TemplateLimits)", "maxCallDepth",
                    b.limits.maxCallDepth());
        }
    }

    static void leaveCall() {
        Budget b = CURRENT.get();
        if (b != null) {
            b.callDepth--;
        }
    }
}
