package io.github.amulet4j.cli.bench;

import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.djl.model.DjlCausalLm;

import java.util.List;

/**
 * A {@link DjlCausalLm} seen through the {@link CausalLm} interface, adding up the time of the forward passes
 * of decoding ({@link DecodingSession#append}) and the part of it spent copying logits out of the engine, so
 * the time the generation loop spends outside the model can be told apart.
 */
final class TimedCausalLm implements CausalLm {

    private final DjlCausalLm lm;
    private long appendNanos;
    private long appendCopyNanos;
    private int appends;

    /** The model behind this view. */
    DjlCausalLm model() {
        return lm;
    }

    TimedCausalLm(DjlCausalLm lm) {
        this.lm = lm;
    }

    void reset() {
        appendNanos = 0;
        appendCopyNanos = 0;
        appends = 0;
    }

    /** Wall time of all forward passes after the prefill since {@link #reset()}. */
    long appendNanos() {
        return appendNanos;
    }

    /** The part of {@link #appendNanos()} spent copying logits into Java arrays. */
    long appendCopyNanos() {
        return appendCopyNanos;
    }

    /** Number of forward passes after the prefill since {@link #reset()}. */
    int appends() {
        return appends;
    }

    @Override
    public int vocabSize() {
        return lm.vocabSize();
    }

    @Override
    public int maxPositions() {
        return lm.maxPositions();
    }

    @Override
    public DecodingSession prefill(List<int[]> prompts) {
        DecodingSession inner = lm.prefill(prompts);
        return new DecodingSession() {
            @Override
            public int streams() {
                return inner.streams();
            }

            @Override
            public Logits logits() {
                return inner.logits();
            }

            @Override
            public void append(int[] tokens) {
                long copy0 = lm.logitsCopyNanos();
                long t0 = System.nanoTime();
                inner.append(tokens);
                appendNanos += System.nanoTime() - t0;
                appendCopyNanos += lm.logitsCopyNanos() - copy0;
                appends++;
            }

            @Override
            public void select(int[] sources) {
                inner.select(sources);
            }

            @Override
            public int length(int stream) {
                return inner.length(stream);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    @Override
    public void close() {
        lm.close();
    }
}
