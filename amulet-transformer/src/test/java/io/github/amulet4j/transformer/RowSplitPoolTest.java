package io.github.amulet4j.transformer;

import io.github.amulet4j.transformer.RowSplitPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link RowSplitPool}: failures of any kind reach the caller, and two callers at once are serialized. */
class RowSplitPoolTest {

    /** An Error on a worker (out of memory) used to kill the worker and leave the caller waiting forever. */
    @Test
    void errorOnAWorkerIsHandedToTheCaller() {
        try (RowSplitPool workers = new RowSplitPool(3, "test-product")) {
            OutOfMemoryError oom = new OutOfMemoryError("test: Java heap space");
            OutOfMemoryError thrown = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                    OutOfMemoryError.class, () -> workers.run(new Runnable[] {() -> { }, () -> {
                        throw oom;
                    }, () -> { }})));
            assertSame(oom, thrown);
            // the workers survive it: the next product runs every task
            AtomicInteger ran = new AtomicInteger();
            assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> workers.run(new Runnable[] {ran::incrementAndGet, ran::incrementAndGet, ran::incrementAndGet}));
            assertEquals(3, ran.get());
        }
    }

    /**
     * Shared work: whichever threads join (a worker still waking up is withdrawn), every piece is done exactly once,
     * the pieces the workers took are finished when {@code runShared} returns, and a failure reaches the caller.
     */
    @Test
    void sharedWorkDoesEveryPieceOnce() {
        try (RowSplitPool workers = new RowSplitPool(3, "test-product")) {
            for (int rep = 0; rep < 300; rep++) {
                int pieces = 1 + rep % 40;
                java.util.concurrent.atomic.AtomicIntegerArray done = new java.util.concurrent.atomic.AtomicIntegerArray(pieces);
                AtomicInteger next = new AtomicInteger();
                assertTimeoutPreemptively(Duration.ofSeconds(10), () -> workers.runShared(() -> {
                    for (int p = next.getAndIncrement(); p < pieces; p = next.getAndIncrement()) {
                        if (p % 7 == 3) {
                            sleep(1);
                        }
                        done.incrementAndGet(p);
                    }
                }));
                for (int p = 0; p < pieces; p++) {
                    assertEquals(1, done.get(p), "piece " + p + " of " + pieces + ", repetition " + rep);
                }
            }
            IllegalStateException boom = new IllegalStateException("boom");
            assertSame(boom, assertThrows(IllegalStateException.class, () -> workers.runShared(() -> {
                throw boom;
            })));
            AtomicInteger ran = new AtomicInteger();
            workers.run(new Runnable[] {ran::incrementAndGet, ran::incrementAndGet, ran::incrementAndGet});
            assertEquals(3, ran.get(), "the workers survive a failed shared run");
        }
    }

    /** A failure on the calling thread is rethrown only after the workers' tasks have ended. */
    @Test
    void callerFailureWaitsForTheWorkers() {
        try (RowSplitPool workers = new RowSplitPool(2, "test-product")) {
            AtomicBoolean workerDone = new AtomicBoolean();
            AssertionError e = assertThrows(AssertionError.class, () -> workers.run(new Runnable[] {() -> {
                throw new AssertionError("caller task");
            }, () -> {
                sleep(200);
                workerDone.set(true);
            }}));
            assertEquals("caller task", e.getMessage());
            assertTrue(workerDone.get(), "the worker's task had finished when the caller's failure was rethrown");
            // both fail: the first is thrown, the other attached
            IllegalStateException first = new IllegalStateException("first");
            IllegalArgumentException second = new IllegalArgumentException("second");
            IllegalStateException got = assertThrows(IllegalStateException.class, () -> workers.run(new Runnable[] {
                () -> { throw first; }, () -> { throw second; }}));
            assertSame(first, got);
            assertSame(second, got.getSuppressed()[0]);
        }
    }

    /** Two threads driving the same workers at once: every task of every product runs once, on its own thread. */
    @Test
    void concurrentCallersAreSerialized() throws Exception {
        int rounds = 300;
        try (RowSplitPool workers = new RowSplitPool(3, "test-product")) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                CyclicBarrier start = new CyclicBarrier(2);
                AtomicInteger inFlight = new AtomicInteger();
                AtomicInteger overlaps = new AtomicInteger();
                List<Future<int[]>> runs = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    runs.add(pool.submit(() -> {
                        int[] counts = new int[3];
                        start.await();
                        for (int r = 0; r < rounds; r++) {
                            Runnable[] tasks = new Runnable[3];
                            for (int k = 0; k < 3; k++) {
                                int slot = k;
                                tasks[k] = () -> {
                                    if (inFlight.incrementAndGet() > 3) {
                                        overlaps.incrementAndGet();
                                    }
                                    counts[slot]++;
                                    Thread.onSpinWait();
                                    inFlight.decrementAndGet();
                                };
                            }
                            workers.run(tasks);
                        }
                        return counts;
                    }));
                }
                for (Future<int[]> f : runs) {
                    int[] counts = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> f.get());
                    assertEquals(List.of(rounds, rounds, rounds), List.of(counts[0], counts[1], counts[2]));
                }
                assertEquals(0, overlaps.get(), "tasks of two products ran at once");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void closedWorkersRefuseWork() {
        RowSplitPool workers = new RowSplitPool(2, "test-product");
        workers.close();
        assertThrows(IllegalStateException.class, () -> workers.run(new Runnable[] {() -> { }}));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
