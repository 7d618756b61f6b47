package io.github.amulet4j.jinja;

import java.util.Objects;

/**
 * The resource limits a template runs under. A chat template comes with any model from the Hub or any GGUF file,
 * so it is untrusted code: these limits make every template fail fast, with a {@link TemplateLimitException}
 * naming the limit, instead of running for ever or exhausting the heap or the stack.
 *
 * <p>The defaults are generous for real chat templates (they render a long conversation in a few thousand steps
 * and never build values near a million characters) and stop hostile ones within seconds. Immutable; build with
 * {@link #builder()}:
 *
 * <pre>{@code
 * TemplateLimits limits = TemplateLimits.builder().maxSteps(20_000_000).build();
 * JinjaTemplate t = JinjaTemplate.compile(source, "tokenizer_config.json", limits);
 * }</pre>
 */
public final class TemplateLimits {

    /** Default {@link #maxSteps()}: loop iterations, statements, calls, filter and test applications. */
    public static final long DEFAULT_MAX_STEPS = 1_000_000;
    /** Default {@link #maxValueSize()}: characters of a string (the output included) or elements of a list. */
    public static final long DEFAULT_MAX_VALUE_SIZE = 32L * 1024 * 1024;
    /** Default {@link #maxWork()}: characters built or scanned over one render (a list element counts 8). */
    public static final long DEFAULT_MAX_WORK = 1L << 30;
    /** Default {@link #maxListSize()}: elements of a list a template builds. */
    public static final long DEFAULT_MAX_LIST_SIZE = 1L << 20;
    /** Default {@link #maxNestingDepth()}: nesting of expressions and blocks in the template's source. */
    public static final int DEFAULT_MAX_NESTING_DEPTH = 200;
    /** Default {@link #maxCallDepth()}: macros calling macros. */
    public static final int DEFAULT_MAX_CALL_DEPTH = 200;

    private static final TemplateLimits DEFAULTS = builder().build();

    private final long maxSteps;
    private final long maxValueSize;
    private final long maxWork;
    private final long maxListSize;
    private final int maxNestingDepth;
    private final int maxCallDepth;

    private TemplateLimits(Builder b) {
        this.maxSteps = b.maxSteps;
        this.maxValueSize = b.maxValueSize;
        this.maxWork = b.maxWork;
        this.maxListSize = b.maxListSize;
        this.maxNestingDepth = b.maxNestingDepth;
        this.maxCallDepth = b.maxCallDepth;
    }

    /** The default limits. */
    public static TemplateLimits defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these limits. */
    public Builder toBuilder() {
        return new Builder().maxSteps(maxSteps).maxValueSize(maxValueSize).maxWork(maxWork).maxListSize(maxListSize)
                .maxNestingDepth(maxNestingDepth).maxCallDepth(maxCallDepth);
    }

    /** Most steps of one render: statements run, loop iterations, calls, filter and test applications. */
    public long maxSteps() {
        return maxSteps;
    }

    /** Most characters of a string (the rendered output included) or elements of a list a template builds. */
    public long maxValueSize() {
        return maxValueSize;
    }

    /**
     * Most characters one render may build or scan in all, a list element counting 8
     * (a bound on its time and garbage: a loop cannot copy or search a large value for ever).
     */
    public long maxWork() {
        return maxWork;
    }

    /** Most elements of a list a template builds (repetition, concatenation, split, range, ...). */
    public long maxListSize() {
        return maxListSize;
    }

    /** Deepest nesting of parentheses, brackets, operators and blocks the parser accepts. */
    public int maxNestingDepth() {
        return maxNestingDepth;
    }

    /** Deepest nesting of macro calls at render time. */
    public int maxCallDepth() {
        return maxCallDepth;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TemplateLimits l && l.maxSteps == maxSteps && l.maxValueSize == maxValueSize
                && l.maxWork == maxWork && l.maxListSize == maxListSize && l.maxNestingDepth == maxNestingDepth
                && l.maxCallDepth == maxCallDepth;
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxSteps, maxValueSize, maxWork, maxListSize, maxNestingDepth, maxCallDepth);
    }

    @Override
    public String toString() {
        return "TemplateLimits[maxSteps=" + maxSteps + ", maxValueSize=" + maxValueSize + ", maxWork="
                + maxWork + ", maxListSize=" + maxListSize + ", maxNestingDepth=" + maxNestingDepth + ", maxCallDepth=" + maxCallDepth + "]";
    }

    /** Builds {@link TemplateLimits}; every value must be positive. */
    public static final class Builder {
        private long maxSteps = DEFAULT_MAX_STEPS;
        private long maxValueSize = DEFAULT_MAX_VALUE_SIZE;
        private long maxWork = DEFAULT_MAX_WORK;
        private long maxListSize = DEFAULT_MAX_LIST_SIZE;
        private int maxNestingDepth = DEFAULT_MAX_NESTING_DEPTH;
        private int maxCallDepth = DEFAULT_MAX_CALL_DEPTH;

        private Builder() {
        }

        public Builder maxSteps(long value) {
            this.maxSteps = positive(value, "maxSteps");
            return this;
        }

        /** At most {@code Integer.MAX_VALUE - 16} (a Java string's length). */
        public Builder maxValueSize(long value) {
            positive(value, "maxValueSize");
            if (value > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("maxValueSize must be at most " + (Integer.MAX_VALUE - 16)
                        + " (a Java string's length), got " + value);
            }
            this.maxValueSize = value;
            return this;
        }

        public Builder maxWork(long value) {
            this.maxWork = positive(value, "maxWork");
            return this;
        }

        public Builder maxListSize(long value) {
            positive(value, "maxListSize");
            if (value > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("maxListSize must be at most " + (Integer.MAX_VALUE - 16)
                        + ", got " + value);
            }
            this.maxListSize = value;
            return this;
        }

        public Builder maxNestingDepth(int value) {
            this.maxNestingDepth = (int) positive(value, "maxNestingDepth");
            return this;
        }

        public Builder maxCallDepth(int value) {
            this.maxCallDepth = (int) positive(value, "maxCallDepth");
            return this;
        }

        public TemplateLimits build() {
            return new TemplateLimits(this);
        }

        private static long positive(long value, String name) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }
    }
}
