package io.github.amulet4j.djl.concurrent;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A part of a model's load run on a daemon thread of its own while the caller's thread loads another part (the
 * tokenizer beside the weights; the tokenizers library's parse beside the reading of the ids), joined with the
 * errors the part would have thrown on the caller's thread.
 *
 * @param <T> what the part makes
 */
public final class BackgroundLoad<T> {

    private final FutureTask<T> task;

    private BackgroundLoad(Callable<T> load) {
        this.task = new FutureTask<>(load);
    }

    /** Starts {@code load} on a new daemon thread named {@code threadName}. */
    public static <T> BackgroundLoad<T> start(String threadName, Callable<T> load) {
        BackgroundLoad<T> b = new BackgroundLoad<>(load);
        Thread t = new Thread(b.task, threadName);
        t.setDaemon(true);
        t.start();
        return b;
    }

    /**
     * Waits for the part and returns what it made, or rethrows what it threw (an {@link IOException},
     * {@link RuntimeException} or {@link Error} as it was; anything else wrapped in an {@link IOException}). An
     * interrupt does not stop the wait (the part finishes soon and may own native memory the caller must close): the
     * thread's interrupt flag is set again afterwards.
     */
    public T join() throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    } else if (c instanceof RuntimeException r) {
                        throw r;
                    } else if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IOException(c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
