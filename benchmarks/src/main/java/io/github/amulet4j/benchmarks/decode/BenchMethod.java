package io.github.amulet4j.benchmarks.decode;

import io.github.amulet4j.align.AmuletForm;
import io.github.amulet4j.align.AlignmentMethod;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** A way of decoding that the benchmark times: a method of the paper, its Amulet form, and whether a KV cache is used. */
public enum BenchMethod {
    /** The base stream alone. */
    BASE("base", AlignmentMethod.BASE, AmuletForm.CLOSED_FORM, true),
    /** The preference stream alone (plain greedy decoding; the reference of the ratios). */
    PREF("pref", AlignmentMethod.PREF, AmuletForm.CLOSED_FORM, true),
    /** Linear alignment over both streams. */
    LA("la", AlignmentMethod.LA, AmuletForm.CLOSED_FORM, true),
    /** Amulet with the closed-form step over both streams. */
    AMULET("amulet", AlignmentMethod.AMULET, AmuletForm.CLOSED_FORM, true),
    /** Amulet with the paper's iterative step. */
    AMULET_ITERATIVE("amulet-iterative", AlignmentMethod.AMULET, AmuletForm.ITERATIVE, true),
    /** The paper's way of working: no KV cache (the prefix recomputed at every token) and the iterative step. */
    PAPER("paper", AlignmentMethod.AMULET, AmuletForm.ITERATIVE, false);

    private final String id;
    private final AlignmentMethod method;
    private final AmuletForm form;
    private final boolean kvCache;

    BenchMethod(String id, AlignmentMethod method, AmuletForm form, boolean kvCache) {
        this.id = id;
        this.method = method;
        this.form = form;
        this.kvCache = kvCache;
    }

    /** The name used on the command line and in the report. */
    public String id() {
        return id;
    }

    public AlignmentMethod method() {
        return method;
    }

    public AmuletForm form() {
        return form;
    }

    public boolean kvCache() {
        return kvCache;
    }

    /** Number of streams decoded together. */
    public int streams() {
        return (method.needsBase() ? 1 : 0) + (method.needsPreference() ? 1 : 0);
    }

    /** The method called {@code name}. @throws IllegalArgumentException listing the valid names */
    public static BenchMethod parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (BenchMethod m : values()) {
            if (m.id.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + name + "'; valid: " + names());
    }

    /** All names, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(BenchMethod::id).collect(Collectors.joining(", "));
    }
}
