package io.github.amulet4j.transformer;

import java.nio.ByteOrder;

/**
 * Whether the Java kernels ({@link io.github.amulet4j.transformer.weights.WeightMatrix#multiply}) can run on this JVM: they
 * need the Vector API ({@code jdk.incubator.vector}; start Java with {@code --add-modules jdk.incubator.vector}, as the
 * {@code amulet} launcher does) and a little-endian CPU (x86-64 and AArch64 are), since they reinterpret the bytes of
 * the weights as float and int lanes. The kernels use only loads from arrays, which every JDK from 17 on has (up to
 * JDK 19 there were also loads from {@code ByteBuffer}s, which the kernels no longer use). Without either, the linear
 * layers run on PyTorch (an info log says so; asking for the Java kernels fails naming the reason).
 */
public final class VectorSupport {

    /** The JVM option that enables the Vector API. */
    public static final String JVM_OPTION = "--add-modules jdk.incubator.vector";

    private static final boolean MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static final String REASON = reason(MODULE, ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);

    private VectorSupport() {
    }

    /** True when the Java kernels can run: the Vector API module is in the boot layer, on a little-endian CPU. */
    public static boolean available() {
        return REASON == null;
    }

    /** Why the Java kernels cannot run here, naming what to change; null when they can. */
    public static String unavailableReason() {
        return REASON;
    }

    /** The reason for a JVM with or without the module, on a little- or big-endian CPU. */
    public static String reason(boolean module, boolean littleEndian) {
        if (!module) {
            return "the Vector API is absent (start Java with " + JVM_OPTION + ")";
        }
        if (!littleEndian) {
            return "the CPU is big-endian, and the Java kernels read the weights' bytes as little-endian lanes";
        }
        return null;
    }
}
