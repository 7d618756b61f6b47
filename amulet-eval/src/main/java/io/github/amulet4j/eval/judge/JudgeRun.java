package io.github.amulet4j.eval.judge;

import io.github.amulet4j.prompt.ChatMessage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Asks the judge every order of every comparison that the judgements file does not hold yet, at most
 * {@code concurrency} requests at a time, and appends each judgement as soon as it is made.
 *
 * <p>A reply without a verdict is asked once more (the conversation so far plus {@link JudgePrompt#REMINDER});
 * without a verdict again it is recorded as unparsable. A request that fails after the client's retries is not
 * recorded (a later run asks it); the run stops asking after {@value #MAX_FAILURES} such failures (the judge looks
 * down), after a failure that every request would share ({@link JudgeException#stopsRun()}), or when the file is
 * closed under it (Ctrl-C). A prompt the judge refuses (a 4xx such as one over its context) is not recorded either,
 * but does not stop the run: the others may pass.
 */
public final class JudgeRun {

    /** Requests failed after their retries after which the run stops asking. */
    public static final int MAX_FAILURES = 3;

    /**
     * What a run did.
     *
     * @param asked        judgements written
     * @param failed       judgements whose request failed (not written)
     * @param firstFailure the first failure's message, or {@code null}
     * @param stopped      whether the run stopped before asking everything
     * @param interrupted  whether it stopped because the file was closed under it
     */
    public record Result(int asked, int failed, String firstFailure, boolean stopped, boolean interrupted) {
    }

    private final JudgeClient client;
    private final JudgePrompt prompt;
    private final JudgementsFile file;
    private final int concurrency;
    private final Consumer<Judgement> listener;

    /**
     * @param listener called (from worker threads, one at a time) after each judgement is written
     */
    public JudgeRun(JudgeClient client, JudgePrompt prompt, JudgementsFile file, int concurrency,
                    Consumer<Judgement> listener) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
        }
        this.client = client;
        this.prompt = prompt;
        this.file = file;
        this.concurrency = concurrency;
        this.listener = listener;
    }

    /**
     * The judgements the file lacks for these comparisons, each order once (two pairs that share an order share its
     * judgement), in the comparisons' order.
     *
     * @throws IllegalArgumentException when the file holds a judgement of other answers for the same key
     */
    public static Map<JudgementKey, Comparison> todo(List<Comparison> comparisons, JudgementsFile file) {
        Map<JudgementKey, Comparison> todo = new LinkedHashMap<>();
        for (Comparison c : comparisons) {
            for (JudgementKey k : c.orders()) {
                Optional<Judgement> done = file.find(k);
                if (done.isPresent()) {
                    String now = answersSha256(c, k);
                    if (!done.get().answersSha256().equals(now)) {
                        throw new IllegalArgumentException("judgements file " + file.path() + " holds a judgement of "
                                + "other answers for " + k + " (the results files changed since); judge into "
                                + "another --out file");
                    }
                } else {
                    todo.putIfAbsent(k, c);
                }
            }
        }
        return todo;
    }

    /** Asks every judgement in {@code todo}; returns when all are done or the run stopped. */
    public Result run(Map<JudgementKey, Comparison> todo) throws InterruptedException {
        AtomicInteger asked = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger exhausted = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean interrupted = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "amulet-judge");
            t.setDaemon(true);
            return t;
        });
        Object listenerLock = new Object();
        try {
            List<Runnable> tasks = new ArrayList<>();
            for (Map.Entry<JudgementKey, Comparison> e : todo.entrySet()) {
                tasks.add(() -> {
                    if (stop.get()) {
                        return;
                    }
                    try {
                        Judgement j = judge(e.getKey(), e.getValue());
                        file.append(j);
                        asked.incrementAndGet();
                        synchronized (listenerLock) {
                            listener.accept(j);
                        }
                    } catch (JudgeException ex) {
                        firstFailure.compareAndSet(null, ex.getMessage());
                        failed.incrementAndGet();
                        boolean judgeDown = ex.kind() == JudgeException.Kind.RETRIES_EXHAUSTED
                                && exhausted.incrementAndGet() >= MAX_FAILURES;
                        if (judgeDown || ex.stopsRun()) {
                            stop.set(true);
                            pool.shutdownNow();
                        }
                    } catch (IllegalStateException closed) {
                        interrupted.set(true); // the shutdown hook closed the file
                        stop.set(true);
                        pool.shutdownNow();
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt(); // the run is stopping
                    } catch (IOException ex) {
                        firstFailure.compareAndSet(null, "cannot write " + file.path() + ": " + ex.getMessage());
                        failed.incrementAndGet();
                        stop.set(true);
                        pool.shutdownNow();
                    }
                });
            }
            tasks.forEach(pool::execute);
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                // wait; workers stop the pool themselves on a failure
            }
        } finally {
            pool.shutdownNow();
        }
        return new Result(asked.get(), failed.get(), firstFailure.get(), stop.get(), interrupted.get());
    }

    /** Asks one order: shown {@code key.methodA()} first. */
    private Judgement judge(JudgementKey key, Comparison c) throws JudgeException, InterruptedException {
        Answer a = key.methodA().equals(c.candidate().method()) ? c.candidate() : c.baseline();
        Answer b = a == c.candidate() ? c.baseline() : c.candidate();
        long start = System.nanoTime();
        String text = prompt.render(a, b);
        JudgeClient.Reply first = client.complete(List.of(ChatMessage.user(text)));
        Optional<Verdict> verdict = Verdict.parse(first.text());
        String firstReply = null;
        JudgeClient.Reply last = first;
        int attempts = first.attempts();
        if (verdict.isEmpty()) {
            firstReply = first.text();
            last = client.complete(List.of(ChatMessage.user(text), ChatMessage.assistant(first.text()),
                    ChatMessage.user(JudgePrompt.REMINDER)));
            attempts += last.attempts();
            verdict = Verdict.parse(last.text());
        }
        double seconds = Math.round((System.nanoTime() - start) / 1e3) / 1e6;
        JudgeSettings s = file.settings();
        return new Judgement(key, answersSha256(c, key), verdict.orElse(null), last.text(), firstReply, s.judgeModel(),
                s.templateSha256(), attempts, seconds);
    }

    /** SHA-256 of what the judge is shown for {@code key} besides the template. */
    static String answersSha256(Comparison c, JudgementKey key) {
        Answer a = key.methodA().equals(c.candidate().method()) ? c.candidate() : c.baseline();
        Answer b = a == c.candidate() ? c.baseline() : c.candidate();
        return JudgePrompt.sha256(a.question() + "\u0000" + a.preferenceText() + "\u0000" + a.text() + "\u0000" + b.text());
    }
}
