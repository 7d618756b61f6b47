package io.github.amulet4j.djl.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Waiting for another download's blob lock ends at a deadline, with a message naming the holder. */
class BlobLockTest {

    @Test
    void aLockWaitEndsAtItsDeadlineNamingTheHolder(@TempDir Path tmp) throws Exception {
        Path repoDir = tmp.resolve("models--org--x");
        String what = "org/x/model.safetensors";
        try (BlobLock held = BlobLock.acquire(repoDir, "abc", what, Duration.ofSeconds(1))) {
            Path lockFile = tmp.resolve(".locks/models--org--x/abc.lock");
            String pid = "pid " + ProcessHandle.current().pid();
            assertTrue(Files.readString(lockFile).contains(pid + " downloading " + what), Files.readString(lockFile));
            CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
                try {
                    BlobLock.acquire(repoDir, "abc", what, Duration.ofMillis(300)).close();
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            Throwable t = other.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof HubException, String.valueOf(t));
            assertTrue(t.getMessage().contains(pid) && t.getMessage().contains(what) && t.getMessage().contains("waited"),
                    t.getMessage());
        }
        // released: the next one gets it at once
        BlobLock.acquire(repoDir, "abc", what, Duration.ZERO).close();
    }
}
