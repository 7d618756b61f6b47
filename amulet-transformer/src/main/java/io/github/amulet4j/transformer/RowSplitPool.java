package io.github.amulet4j.transformer;


import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs the row blocks of one matrix product on several threads at once: the calling thread computes the
 * first block, one worker thread each of the others (engine products, or row ranges of the Java kernels).
 *
 * <p>Why: PyTorch's CPU matrix-vector products (a decode step's linear layers, one or two columns) run on
 * a single thread whatever its thread setting, and one core reads memory at about half the machine's
 * bandwidth (issue 5 measured 10.5 GB/s for one thread against 19 GB/s for two). Splitting {@code W} by
 * rows and running the blocks concurrently reads the weights at the machine's bandwidth.
 *
 * <p>Hand-offs are a few microseconds: a worker spins briefly for its next block (decode steps post one
 * every fraction of a millisecond), then parks. Workers are daemon threads; {@link #close()} stops them.
 *
 * <p>Failures: whatever a task throws ({@link Error}s such as {@link OutOfMemoryError} included) is handed to the
 * caller once every task of the product has ended; the workers stay usable. Concurrency: products are serialized,
 * a second thread that calls {@link #run} while a product is in flight waits for it (the workers have one mailbox
 * each, so two products at once would overwrite each other's tasks).
 */
public final class RowSplitPool implements AutoCloseable {

    /** How long a thread spins for the next hand-off before it parks. */
    private static final long SPIN_NANOS = 50_000;

    private static final int IDLE = 0;
    private static final int POSTED = 1;
    private static final int DONE = 2;
    /** A worker took its posted task and runs it (a posted task not yet taken can be withdrawn: {@link #runShared}). */
    private static final int RUNNING = 3;

    private final Worker[] workers;
    /** One product at a time: the workers' mailboxes hold one task each. */
    private final ReentrantLock oneProduct = new ReentrantLock();
    private volatile boolean closed;

    /**
     * @param threads threads that share a product, the caller included (1 means no worker threads)
     * @param name    prefix of the worker threads' names
     */
    public RowSplitPool(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(name + "-" + (i + 1));
            workers[i].start();
        }
    }

    /** Threads that share one product, the caller included. */
    public int threads() {
        return workers.length + 1;
    }

    /**
     * Runs {@code tasks[0]} on the calling thread and each other task on its own worker, all at once, and returns
     * when every task has finished. The first failure (any {@link Throwable}) is rethrown after all tasks ended.
     * A call from a second thread while one is in flight waits for it.
     *
     * @param tasks at most {@link #threads()} tasks
     */
    public void run(Runnable[] tasks) {
        if (tasks.length > threads()) {
            throw new IllegalArgumentException(tasks.length + " tasks for " + threads() + " threads");
        }
        oneProduct.lock();
        try {
            if (closed) {
                throw new IllegalStateException("product workers are closed");
            }
            runAlone(tasks);
        } finally {
            oneProduct.unlock();
        }
    }

    /**
     * Runs {@code work} on the calling thread and on every worker at once, for work that the threads share by claiming
     * pieces of it (an atomic counter) until none are left: whichever threads take part, every piece is done once.
     * When the caller's {@code work} returns, a worker that has not started yet (still waking up, or without a core on a
     * busy machine) is not waited for: its post is withdrawn. So a product never waits for a thread the operating
     * system did not schedule, where {@link #run} waits for every task. Failures as in {@link #run}.
     */
    public void runShared(Runnable work) {
        oneProduct.lock();
        try {
            if (closed) {
                throw new IllegalStateException("product workers are closed");
            }
            Thread caller = Thread.currentThread();
            for (Worker w : workers) {
                w.post(work, caller);
            }
            Throwable failure = null;
            try {
                work.run();
            } catch (Throwable e) {
                failure = e;
            }
            for (Worker w : workers) {
                if (w.withdraw()) {
                    continue;
                }
                w.awaitDone();
                Throwable e = w.take();
                if (failure == null) {
                    failure = e;
                } else if (e != null && e != failure) {
                    failure.addSuppressed(e);
                }
            }
            rethrow(failure);
        } finally {
            oneProduct.unlock();
        }
    }

    private static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("a product task failed: " + failure, failure);
        }
    }

    private void runAlone(Runnable[] tasks) {
        Thread caller = Thread.currentThread();
        for (int i = 1; i < tasks.length; i++) {
            workers[i - 1].post(tasks[i], caller);
        }
        Throwable failure = null;
        try {
            tasks[0].run();
        } catch (Throwable e) {
            failure = e;
        }
        for (int i = 1; i < tasks.length; i++) {
            Worker w = workers[i - 1];
            w.awaitDone();
            Throwable e = w.take();
            if (failure == null) {
                failure = e;
            } else if (e != null && e != failure) {
                failure.addSuppressed(e);
            }
        }
        rethrow(failure);
    }

    /** Stops the workers (after the product in flight, if any). */
    @Override
    public void close() {
        oneProduct.lock();
        try {
            closed = true;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        } finally {
            oneProduct.unlock();
        }
    }

    /** One worker thread with a single-slot mailbox. */
    private final class Worker extends Thread {
        private final AtomicInteger state = new AtomicInteger(IDLE);
        private Runnable task;
        private Throwable error;
        private volatile Thread waiter;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void post(Runnable t, Thread caller) {
            task = t;
            error = null;
            waiter = caller;
            state.set(POSTED);
            LockSupport.unpark(this);
        }

        /** Takes back a posted task that the worker has not started; false when it has (then await it). */
        boolean withdraw() {
            if (state.compareAndSet(POSTED, IDLE)) {
                task = null;
                return true;
            }
            return false;
        }

        void awaitDone() {
            long start = System.nanoTime();
            while (state.get() != DONE) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }

        /** The task's failure, or null; frees the mailbox. */
        Throwable take() {
            Throwable e = error;
            task = null;
            error = null;
            state.set(IDLE);
            return e;
        }

        @Override
        public void run() {
            while (!closed) {
                long start = System.nanoTime();
                while (!state.compareAndSet(POSTED, RUNNING)) {
                    if (closed) {
                        return;
                    }
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                try {
                    task.run();
                } catch (Throwable e) { // an Error too: the caller waits for DONE and must hear of it
                    error = e;
                }
                state.set(DONE);
                LockSupport.unpark(waiter);
            }
        }
    }
}
