package io.github.amulet4j.align;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The decoding methods the paper compares (ALGORITHM.md section 5), and the streams each one needs. */
public enum AlignmentMethod {
    /** The base stream alone. */
    BASE("base", false, true),
    /** The preference stream alone. */
    PREF("pref", true, false),
    /** Linear alignment: {@code pref + rho * (pref - base)}. */
    LA("la", true, true),
    /** The Amulet online-learning step. */
    AMULET("amulet", true, true),
    /** Beam search over the preference stream. */
    BEAM("beam", true, false);

    private final String id;
    private final boolean needsPreference;
    private final boolean needsBase;

    AlignmentMethod(String id, boolean needsPreference, boolean needsBase) {
        this.id = id;
        this.needsPreference = needsPreference;
        this.needsBase = needsBase;
    }

    /** The lower-case name used on the command line and in the paper ({@code base}, {@code pref}, ...). */
    public String id() {
        return id;
    }

    public boolean needsPreference() {
        return needsPreference;
    }

    public boolean needsBase() {
        return needsBase;
    }

    /**
     * The method called {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException listing the valid names
     */
    public static AlignmentMethod fromName(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (AlignmentMethod m : values()) {
                if (m.id.equals(n)) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("unknown method '" + name + "'; valid methods: "
                + Arrays.stream(values()).map(AlignmentMethod::id).collect(Collectors.joining(", ")));
    }

    /**
     * The per-token step of this method. {@link #BEAM} has none (it scores the preference stream itself).
     *
     * @param amulet hyperparameters for {@link #AMULET}
     * @param form   closed form or iterative, for {@link #AMULET}
     * @param rho    ratio for {@link #LA}
     */
    public AlignmentStep step(AmuletParameters amulet, AmuletForm form, double rho) {
        return switch (this) {
            case BASE -> PassThrough.BASE;
            case PREF -> PassThrough.PREFERENCE;
            case LA -> new LinearAlignment(rho);
            case AMULET -> form.step(amulet);
            case BEAM -> throw new UnsupportedOperationException("beam search has no per-token alignment step");
        };
    }
}
