package io.github.amulet4j.generate;

import java.util.concurrent.RejectedExecutionException;

/** A {@link ContinuousBatcher} refused a request because {@code maxQueue} requests wait already. */
public final class QueueFullException extends RejectedExecutionException {

    public QueueFullException(int maxQueue) {
        super("the queue is full (" + maxQueue + " requests waiting)");
    }
}
