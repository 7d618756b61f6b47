package io.github.amulet4j.djl.model;

/**
 * Whether this JVM has the Vector API ({@code jdk.incubator.vector}), which the Java kernels ({@link io.github.amulet4j.djl.weights.WeightMatrix#multiply}) need. Start Java
 * with {@code --add-modules jdk.incubator.vector} to enable it (the {@code amulet} launcher does).
 */
public final class VectorSupport {

    /** The JVM option that enables the Vector API. */
    public static final String JVM_OPTION = "--add-modules jdk.incubator.vector";

    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private VectorSupport() {
    }

    /** True when the {@code jdk.incubator.vector} module is in the boot layer. */
    public static boolean available() {
        return AVAILABLE;
    }
}
