package io.github.amulet4j.transformer;

/**
 * The package-private test seams of {@link JavaForward}, for tests in other modules (amulet-djl compares the Java pass
 * with the engine's); published in this module's test jar only, never in the production contract.
 */
public final class JavaForwardSeams {

    /** Queries of one head that the blocked attention computes together. */
    public static final int QUERY_BLOCK = JavaForward.QUERY_BLOCK;
    /** Positions whose logits {@code runAll} computes at once. */
    public static final int LOGIT_GROUP = JavaForward.LOGIT_GROUP;

    private JavaForwardSeams() {
    }

    /** Runs {@code probe} where the pass's temporaries peak. */
    public static void probe(JavaForward pass, Runnable probe) {
        pass.probe(probe);
    }

    /** Bytes of Java arrays the pass holds now (its scratch arrays and the cache it runs on). */
    public static long heapBytesHeld(JavaForward pass) {
        return pass.heapBytesHeld();
    }

    /** A cache of {@code pass} whose sliding-window layers hold every slot (the bounded cache's twin). */
    public static KvCache unboundedCache(JavaForward pass, int batch, int capacity) {
        return pass.newUnboundedCache(batch, capacity);
    }

    /** Slots a sliding layer of {@code window} keeps behind the next query (its window less one, and a margin). */
    public static int keepBehind(int window) {
        return JavaKvCache.keepBehind(window);
    }

    /** Sets the split-slot decode attention's thresholds. */
    public static void splitSlots(JavaForward pass, int slots, int unitsPerThread) {
        pass.splitSlots(slots, unitsPerThread);
    }

    /** Ranges the split-slot decode attention cuts the slots of {@code rows} rows into. */
    public static int splitRanges(JavaForward pass, int rows, int slots) {
        return pass.splitRanges(rows, slots);
    }
}
