package io.github.amulet4j.djl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The prompt side of a model (tokenizer, chat template) built on a thread of its own while the caller's thread loads
 * the weights: the two take about as long as each other for a small model's first load (Qwen2.5-0.5B shape, cold
 * JVM), and neither needs the other. Errors surface as they did when the two ran one after the other: the prompt
 * side's first.
 */
final class BackgroundPrompts {

    private final FutureTask<PromptRenderer> task;

    private BackgroundPrompts(Callable<PromptRenderer> load) {
        this.task = new FutureTask<>(load);
    }

    /** Starts {@code load} on a new daemon thread. */
    static BackgroundPrompts start(Callable<PromptRenderer> load) {
        BackgroundPrompts p = new BackgroundPrompts(load);
        Thread t = new Thread(p.task, "amulet-prompt-load");
        t.setDaemon(true);
        t.start();
        return p;
    }

    /** Waits for the prompt side; rethrows what its loading threw. */
    PromptRenderer join() throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    // the load finishes soon and owns a native tokenizer: wait for it, then restore the flag
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
                    throw new UncheckedIOException(new IOException(c));
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * After the weights failed to load with {@code weightsError}: waits for the prompt side and closes it, or, when it
     * failed too, throws its error (the one a caller got before the two ran at once) with {@code weightsError}
     * suppressed.
     */
    void abandon(Throwable weightsError) throws IOException {
        PromptRenderer p;
        try {
            p = join();
        } catch (IOException | RuntimeException | Error e) {
            if (e != weightsError) {
                e.addSuppressed(weightsError);
            }
            throw e;
        }
        p.close();
    }
}
