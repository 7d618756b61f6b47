package io.github.amulet4j.djl.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Whether the Java kernels ({@link io.github.amulet4j.djl.weights.WeightMatrix#multiply}) can run on this JVM: they
 * need the Vector API ({@code jdk.incubator.vector}; start Java with {@code --add-modules jdk.incubator.vector}, as the
 * {@code amulet} launcher does) and its loads from {@link ByteBuffer}s ({@code ByteVector.fromByteBuffer}), where the
 * weights live off the heap. JDK 20 removed those loads in favour of memory segments, so on JDK 20 and later the
 * linear layers run on PyTorch (an info log says so; asking for the Java kernels fails naming the reason).
 */
public final class VectorSupport {

    /** The JVM option that enables the Vector API. */
    public static final String JVM_OPTION = "--add-modules jdk.incubator.vector";

    private static final boolean MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static final boolean BUFFER_LOADS = MODULE && hasBufferLoads();
    private static final String REASON = reason(MODULE, BUFFER_LOADS, Runtime.version().feature());

    private VectorSupport() {
    }

    /** True when the Java kernels can run: the Vector API module is in the boot layer and loads from buffers. */
    public static boolean available() {
        return REASON == null;
    }

    /** Why the Java kernels cannot run here, naming what to change; null when they can. */
    public static String unavailableReason() {
        return REASON;
    }

    /** The reason for a JVM with or without the module and the buffer loads (feature release {@code jdk}). */
    static String reason(boolean module, boolean bufferLoads, int jdk) {
        if (!module) {
            return "the Vector API is absent (start Java with " + JVM_OPTION + ")";
        }
        if (!bufferLoads) {
            return "the Vector API of JDK " + jdk + " has no loads from ByteBuffers (ByteVector.fromByteBuffer, removed"
                    + " in JDK 20), which the Java kernels use for their off-heap weights: run on JDK 17, 18 or 19 for"
                    + " them";
        }
        return null;
    }

    private static boolean hasBufferLoads() {
        try {
            Class<?> vector = Class.forName("jdk.incubator.vector.ByteVector");
            Class<?> species = Class.forName("jdk.incubator.vector.VectorSpecies");
            vector.getMethod("fromByteBuffer", species, ByteBuffer.class, int.class, ByteOrder.class);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
