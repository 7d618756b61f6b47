package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.ForwardPass;
import io.github.amulet4j.transformer.JavaForward;
import io.github.amulet4j.transformer.JavaForwardSeams;

/** The test seams of either forward pass, reached through a model's {@link ForwardPass}. */
final class PassSeams {

    private PassSeams() {
    }

    /**
     * Most bytes of float32 attention scores for one block of queries on the engine's pass; the Java pass computes one
     * query's scores at a time per thread, below any budget of at least one slot, and only checks the value.
     */
    static void attentionBlockBytes(ForwardPass pass, long bytes) {
        if (pass instanceof TransformerForward engine) {
            engine.attentionBlockBytes(bytes);
        } else if (bytes < 1) {
            throw new IllegalArgumentException("attentionBlockBytes must be >= 1, got " + bytes);
        }
    }

    /** Runs {@code probe} where the pass's temporaries peak. */
    static void probe(ForwardPass pass, Runnable probe) {
        if (pass instanceof TransformerForward engine) {
            engine.probe(probe);
        } else {
            JavaForwardSeams.probe((JavaForward) pass, probe);
        }
    }

    /** Bytes of Java arrays the pass holds now (none for the engine's pass, which keeps its temporaries on the engine). */
    static long heapBytesHeld(ForwardPass pass) {
        return pass instanceof JavaForward java ? JavaForwardSeams.heapBytesHeld(java) : 0;
    }
}
