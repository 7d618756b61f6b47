package io.github.amulet4j.djl.model;

/** Prints the automatic product-thread count; run in a child JVM with {@code -XX:ActiveProcessorCount=N}. */
public final class AutoProductThreadsMain {

    private AutoProductThreadsMain() {
    }

    public static void main(String[] args) {
        System.out.println(RuntimeOptions.defaults().effectiveProductThreads());
    }
}
