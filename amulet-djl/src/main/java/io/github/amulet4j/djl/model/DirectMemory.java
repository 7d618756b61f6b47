package io.github.amulet4j.djl.model;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How much direct memory ({@link java.nio.ByteBuffer#allocateDirect}) the JVM still allows: its limit is
 * {@code -XX:MaxDirectMemorySize}, or the maximum heap size when that option is absent.
 */
final class DirectMemory {

    private static final String OPTION = "-XX:MaxDirectMemorySize=";

    private DirectMemory() {
    }

    /** The limit in bytes. */
    static long max() {
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith(OPTION)) {
                return parseSize(arg.substring(OPTION.length()));
            }
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** Bytes of direct buffers allocated now. */
    static long used() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(pool.getName())) {
                return pool.getMemoryUsed();
            }
        }
        return 0;
    }

    /** The limit less what is allocated. */
    static long free() {
        return Math.max(0, max() - used());
    }

    /** A JVM size such as {@code 8g}, {@code 512m}, {@code 1024k} or plain bytes. */
    static long parseSize(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = v.isEmpty() ? ' ' : v.charAt(v.length() - 1);
        switch (last) {
            case 't' -> unit = 1L << 40;
            case 'g' -> unit = 1L << 30;
            case 'm' -> unit = 1L << 20;
            case 'k' -> unit = 1L << 10;
            default -> unit = 1;
        }
        String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
