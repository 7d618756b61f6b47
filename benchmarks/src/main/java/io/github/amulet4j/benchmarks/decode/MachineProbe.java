package io.github.amulet4j.benchmarks.decode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/** What the benchmark reads about the machine: CPU, memory, load, resident memory, and the memory read bandwidth. */
final class MachineProbe {

    private MachineProbe() {
    }

    /** The CPU's model name from {@code /proc/cpuinfo}, or the OS architecture where that file is missing. */
    static String cpuModel() {
        for (String line : lines("/proc/cpuinfo")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    /** Total memory in bytes from {@code /proc/meminfo}, or -1. */
    static long totalMemoryBytes() {
        return kibField("/proc/meminfo", "MemTotal:");
    }

    /** Resident memory of this process ({@code VmRSS}) in bytes, or -1 where {@code /proc} is missing. */
    static long residentBytes() {
        return kibField("/proc/self/status", "VmRSS:");
    }

    /** Peak resident memory of this process ({@code VmHWM}) in bytes, or -1 where {@code /proc} is missing. */
    static long peakResidentBytes() {
        return kibField("/proc/self/status", "VmHWM:");
    }

    /**
     * Resets {@link #peakResidentBytes()} to the current resident memory (Linux: {@code 5} written to
     * {@code /proc/self/clear_refs}); false where that is not possible (the peak then counts from the start).
     */
    static boolean resetPeakResident() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The 1-minute load average from {@code /proc/loadavg}, or NaN. */
    static double loadAverage() {
        List<String> l = lines("/proc/loadavg");
        if (l.isEmpty()) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(l.get(0).split("\\s+")[0]);
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Memory read bandwidth in bytes per second: two threads each sum their half of a {@code totalBytes} buffer of
     * longs (far larger than the caches), timed from a common start until both finish; the best of {@code runs}.
     * The buffer is native memory of at most {@value #MAX_BUFFER_BYTES} bytes (read several times over for a larger
     * {@code totalBytes}), handed back to the system as soon as the probe ends: on the Java heap a gigabyte stayed
     * resident for the rest of the run and set the peak resident memory a benchmark reports (a 0.4 GB Q4_K_M model's
     * run peaked at 1.2 GiB, the probe's pages under the weights).
     */
    static double readBandwidth(long totalBytes, int runs) {
        int threads = 2;
        long asked = Math.max(1, totalBytes / threads / Long.BYTES);
        int perThread = (int) Math.min(MAX_BUFFER_BYTES / threads / Long.BYTES, asked);
        int passes = (int) Math.min(1000, (asked + perThread - 1) / perThread);
        java.nio.ByteBuffer[] buffers = new java.nio.ByteBuffer[threads];
        java.nio.LongBuffer[] parts = new java.nio.LongBuffer[threads];
        try {
            for (int t = 0; t < threads; t++) {
                buffers[t] = java.nio.ByteBuffer.allocateDirect(Math.multiplyExact(perThread, Long.BYTES))
                        .order(java.nio.ByteOrder.nativeOrder());
                parts[t] = buffers[t].asLongBuffer();
                for (int i = 0; i < perThread; i++) {
                    parts[t].put(i, t + 1L);
                }
            }
            return bestOf(parts, perThread, passes, runs);
        } finally {
            for (java.nio.ByteBuffer b : buffers) {
                free(b);
            }
        }
    }

    /** Frees a direct buffer now ({@code sun.misc.Unsafe.invokeCleaner}); else the collector frees it later. */
    private static void free(java.nio.ByteBuffer b) {
        if (b == null) {
            return;
        }
        try {
            Class<?> unsafe = Class.forName("sun.misc.Unsafe");
            java.lang.reflect.Field f = unsafe.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe.getMethod("invokeCleaner", java.nio.ByteBuffer.class).invoke(f.get(null), b);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // left to the collector
        }
    }

    /** The most bytes the bandwidth probe holds at once: 256 MiB, far beyond any L3 cache this project runs on. */
    static final long MAX_BUFFER_BYTES = 256L << 20;

    private static double bestOf(java.nio.LongBuffer[] parts, int perThread, int passes, int runs) {
        int threads = parts.length;
        double best = 0;
        long[] sums = new long[threads];
        for (int run = 0; run < runs; run++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int index = t;
                workers[t] = new Thread(() -> {
                    await(start);
                    long s = 0;
                    for (int p = 0; p < passes; p++) {
                        s += sum(parts[index]);
                    }
                    sums[index] = s;
                }, "bandwidth-" + t);
                workers[t].start();
            }
            // The clock starts before the barrier releases the workers: a descheduled main thread must not miss work.
            long t0 = System.nanoTime();
            await(start);
            for (Thread w : workers) {
                try {
                    w.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while measuring bandwidth", e);
                }
            }
            long nanos = System.nanoTime() - t0;
            long expected = 0;
            for (int t = 0; t < threads; t++) {
                expected += (t + 1L) * perThread * passes;
            }
            if (sums[0] + sums[1] != expected) {
                throw new IllegalStateException("bandwidth probe summed " + (sums[0] + sums[1]) + ", expected " + expected);
            }
            best = Math.max(best, (double) perThread * passes * threads * Long.BYTES / (nanos / 1e9));
        }
        return best;
    }

    private static long sum(java.nio.LongBuffer a) {
        long s0 = 0;
        int n = a.limit();
        for (int i = 0; i < n; i++) {
            s0 += a.get(i);
        }
        return s0;
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await();
        } catch (Exception e) {
            throw new IllegalStateException("bandwidth probe could not start its threads", e);
        }
    }

    private static long kibField(String file, String field) {
        for (String line : lines(file)) {
            if (line.startsWith(field)) {
                String[] p = line.substring(field.length()).trim().split("\\s+");
                try {
                    return Long.parseLong(p[0]) * 1024;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
