package io.github.amulet4j.transformer;

/** How much more the Java heap may hold: {@code -Xmx} less what is in use. */
public final class JavaHeap {

    private JavaHeap() {
    }

    /**
     * Bytes the heap may still grow by. When less than {@code wanted} seems free, one collection runs first and the
     * heap is measured again (garbage counts as used until it is collected).
     */
    public static long free(long wanted) {
        long free = measure();
        if (free < wanted) {
            System.gc();
            free = measure();
        }
        return free;
    }

    private static long measure() {
        Runtime rt = Runtime.getRuntime();
        return Math.max(0, rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
    }
}
