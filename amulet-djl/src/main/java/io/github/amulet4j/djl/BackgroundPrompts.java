package io.github.amulet4j.djl;

import io.github.amulet4j.djl.concurrent.BackgroundLoad;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * The prompt side of a model (tokenizer, chat template) built on a thread of its own while the caller's thread loads
 * the weights: the two take about as long as each other for a small model's first load (Qwen2.5-0.5B shape, cold
 * JVM), and neither needs the other. Errors surface as they did when the two ran one after the other: the prompt
 * side's first.
 */
final class BackgroundPrompts {

    private final BackgroundLoad<PromptRenderer> load;

    private BackgroundPrompts(BackgroundLoad<PromptRenderer> load) {
        this.load = load;
    }

    /** Starts {@code load} on a new daemon thread. */
    static BackgroundPrompts start(Callable<PromptRenderer> load) {
        return new BackgroundPrompts(BackgroundLoad.start("amulet-prompt-load", load));
    }

    /** Waits for the prompt side; rethrows what its loading threw. */
    PromptRenderer join() throws IOException {
        return load.join();
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
