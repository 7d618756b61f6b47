package io.github.amulet4j.transformer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which pieces of a product's rows each of the {@link RowSplitPool}'s threads computes: the pieces are cut into one run
 * a thread, each thread takes the pieces of its own run front to back, and a thread whose run is done takes the last
 * pieces of the others' runs. So a thread reads one contiguous stretch of the weights while the threads keep pace
 * (the rows after a piece are the thread's next piece, already in its cache through the kernels' prefetches), and a
 * thread that the machine does not schedule in time leaves its run to the others, as a shared counter of pieces would.
 *
 * <p>One product at a time: {@link #reset} before the product's tasks start (the pool's hand-off publishes it),
 * {@link #join} and {@link #claim} from the threads that take part. Allocation-free.
 */
final class PieceClaims {

    /** Per run: its next piece (high 32 bits) and its end (low 32 bits, exclusive). */
    private final AtomicLongArray runs;
    private final AtomicInteger joined = new AtomicInteger();

    /** @param threads runs, one per thread of the pool (the caller included) */
    PieceClaims(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        runs = new AtomicLongArray(threads);
    }

    /** Cuts pieces {@code [0, pieces)} into one run a thread (as even as can be) for the next product. */
    void reset(int pieces) {
        int threads = runs.length();
        for (int t = 0; t < threads; t++) {
            long first = (long) pieces * t / threads;
            long end = (long) pieces * (t + 1) / threads;
            runs.set(t, first << 32 | end);
        }
        joined.set(0);
    }

    /** The run of the calling thread: the first thread that joins the product gets run 0, and so on. */
    int join() {
        return joined.getAndIncrement();
    }

    /**
     * The next piece for the thread that joined as {@code me}: the front of its own run, else the back of another run
     * (the next runs first), or -1 when every piece is taken.
     */
    int claim(int me) {
        int threads = runs.length();
        if (me >= 0 && me < threads) {
            while (true) {
                long r = runs.get(me);
                int first = (int) (r >>> 32);
                int end = (int) r;
                if (first >= end) {
                    break;
                }
                if (runs.compareAndSet(me, r, (long) (first + 1) << 32 | end)) {
                    return first;
                }
            }
        }
        for (int k = 1; k <= threads; k++) {
            int t = Math.floorMod(me + k, threads);
            while (true) {
                long r = runs.get(t);
                int first = (int) (r >>> 32);
                int end = (int) r;
                if (first >= end) {
                    break;
                }
                if (runs.compareAndSet(t, r, (long) first << 32 | (end - 1))) {
                    return end - 1;
                }
            }
        }
        return -1;
    }
}
