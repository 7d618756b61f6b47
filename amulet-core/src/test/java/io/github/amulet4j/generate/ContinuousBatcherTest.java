package io.github.amulet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ContinuousBatcherTest {

    static final int MODEL_VOCAB = 14;
    static final int REAL_VOCAB = 13;
    static final int EOS = 0;

    private static GenerationRequest request(int i) {
        AlignmentMethod[] methods = {AlignmentMethod.AMULET, AlignmentMethod.BASE, AlignmentMethod.PREF, AlignmentMethod.LA, AlignmentMethod.BEAM};
        AlignmentMethod m = methods[i % methods.length];
        int[] base = {3, 1 + i % 7, 5, 2 + i % 3};
        int[] pref = {4, 4, 1 + i % 5, 6, 2, 1 + i % 4, 8};
        GenerationConfig.Builder cfg = GenerationConfig.builder().method(m).maxNewTokens(4 + (i * 5) % 13)
                .numBeams(2);
        if (i % 3 == 1) {
            cfg.decoding(DecodingConfig.builder().doSample(true).temperature(0.8).topP(0.9).seed(100 + i).build());
        }
        if (i % 4 == 2) {
            cfg.stopStrings("yz");
        }
        GenerationRequest r = m == AlignmentMethod.BASE ? GenerationRequest.baseOnly(base)
                : (m == AlignmentMethod.PREF || m == AlignmentMethod.BEAM) ? GenerationRequest.preferenceOnly(pref)
                : GenerationRequest.of(base, pref);
        return r.withConfig(cfg.build());
    }

    private static ContinuousBatcher batcher(TableLm lm, BatchingOptions options) {
        return new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB), GenerationConfig.defaults(), options, EOS);
    }

    @Test
    void concurrentMixedRequestsEqualOneByOne() throws Exception {
        int n = 16;
        List<GenerationResult> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Generator alone = new Generator(new TableLm(MODEL_VOCAB, REAL_VOCAB, 7), new TableLm.Tokenizer(REAL_VOCAB),
                    EOS);
            expected.add(alone.generate(request(i)));
        }
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 7);
        List<StringBuilder> streamed = new ArrayList<>();
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        assertTrue(expected.get(0).generatedTokens() > 1, "request 0 runs for more than one step");
        // request 0's first token holds the decoding loop until every request is submitted, so that the later
        // ones certainly arrive while a session runs (waiting for a step count raced with a loaded machine)
        CountDownLatch allSubmitted = new CountDownLatch(1);
        CountDownLatch gateReached = new CountDownLatch(1);
        try (ContinuousBatcher b = batcher(lm, BatchingOptions.builder().maxBatchStreams(12).maxQueue(n).build())) {
            for (int i = 0; i < n; i++) {
                StringBuilder sb = new StringBuilder();
                streamed.add(sb);
                boolean gate = i == 0;
                boolean[] first = {true};
                futures.add(b.submit(request(i), (req, tok, delta) -> {
                    sb.append(delta);
                    if (gate && first[0]) {
                        first[0] = false;
                        gateReached.countDown();
                        try {
                            allSubmitted.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }));
                if (i == 5) { // the rest arrive while the first ones decode
                    assertTrue(gateReached.await(10, TimeUnit.SECONDS), "request 0 started");
                }
            }
            allSubmitted.countDown();
            for (int i = 0; i < n; i++) {
                GenerationResult got = futures.get(i).get(30, TimeUnit.SECONDS);
                GenerationResult want = expected.get(i);
                assertArrayEquals(want.tokenIds(), got.tokenIds(), "request " + i + " tokens");
                assertEquals(want.text(), got.text(), "request " + i + " text");
                assertEquals(want.finishReason(), got.finishReason(), "request " + i + " finish reason");
                assertEquals(want.basePromptTokens(), got.basePromptTokens(), "request " + i);
                assertEquals(want.preferencePromptTokens(), got.preferencePromptTokens(), "request " + i);
                assertEquals(got.text(), streamed.get(i).toString(), "request " + i + " streamed text");
            }
        }
        assertTrue(lm.absorbs > 0, "newcomers joined a running session");
        int widest = Collections.max(lm.appendBatchSizes);
        assertTrue(widest > 2 && widest <= 12, "steps shared by several requests, within the limit: " + widest);
        assertTrue(lm.appends < expected.stream().mapToInt(GenerationResult::generatedTokens).sum(),
                "fewer forward passes than tokens");
    }

    @Test
    void longPromptsArePrefilledInChunksBetweenDecodingSteps() throws Exception {
        int[] base = new int[30];
        int[] pref = new int[22];
        for (int i = 0; i < base.length; i++) {
            base[i] = 1 + (i * 7) % 12;
        }
        for (int i = 0; i < pref.length; i++) {
            pref[i] = 1 + (i * 5) % 12;
        }
        GenerationRequest longOne = GenerationRequest.of(base, pref)
                .withConfig(GenerationConfig.builder().maxNewTokens(6).build());
        GenerationResult want = new Generator(new TableLm(MODEL_VOCAB, REAL_VOCAB, 7), new TableLm.Tokenizer(REAL_VOCAB))
                .generate(longOne);
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 7);
        // no EOS: the running request only stops when cancelled
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.builder().prefillTokensPerStep(4).build())) {
            AtomicInteger running = new AtomicInteger();
            CompletableFuture<GenerationResult> endless = b.submit(GenerationRequest.baseOnly(new int[] {1, 2})
                    .withConfig(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(1_000_000).build()),
                    (r, t, d) -> running.incrementAndGet());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (running.get() < 2 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            int before = running.get();
            AtomicInteger atFirstToken = new AtomicInteger(-1);
            GenerationResult got = b.submit(longOne, (r, t, d) -> atFirstToken.compareAndSet(-1, running.get()))
                    .get(30, TimeUnit.SECONDS);
            endless.cancel(true);
            assertArrayEquals(want.tokenIds(), got.tokenIds(), "chunked prefill gives the same tokens");
            assertEquals(want.text(), got.text());
            // 22 and 30 prompt tokens in chunks of 4: 6 + 8 chunks (one prefill and the rest extensions per stream)
            assertEquals(5 + 7, lm.extensions);
            assertTrue(atFirstToken.get() - before >= 13,
                    "the running request kept decoding between the chunks: " + (atFirstToken.get() - before));
        }
    }

    @Test
    void cancelledRequestFreesItsStreamsForTheNext() throws Exception {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        // no EOS: the first request only stops when cancelled
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.builder().maxBatchStreams(2).maxQueue(1).build())) {
            CountDownLatch started = new CountDownLatch(5);
            AtomicInteger tokensAfterCancel = new AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
            GenerationRequest endless = GenerationRequest.of(new int[] {1, 2}, new int[] {3, 4})
                    .withConfig(GenerationConfig.builder().maxNewTokens(1_000_000).build());
            CompletableFuture<GenerationResult> first = b.submit(endless, (r, t, d) -> {
                if (cancelled.get()) {
                    tokensAfterCancel.incrementAndGet();
                }
                started.countDown();
            });
            assertTrue(started.await(10, TimeUnit.SECONDS));
            GenerationRequest next = GenerationRequest.baseOnly(new int[] {5, 6})
                    .withConfig(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(3).build());
            CompletableFuture<GenerationResult> second = b.submit(next, TokenListener.NONE);
            assertThrows(QueueFullException.class, () -> b.submit(next, TokenListener.NONE),
                    "a full queue refuses");
            Thread.sleep(50);
            assertEquals(1, b.queuedRequests(), "no room in the batch while the first runs");
            assertTrue(!second.isDone());
            // the flag is set once cancel() has returned: a token reported before that is not "after the cancel"
            first.cancel(true);
            cancelled.set(true);
            assertEquals(3, second.get(10, TimeUnit.SECONDS).generatedTokens());
            assertEquals(0, tokensAfterCancel.get(), "no tokens reported after the cancel");
        }
    }

    @Test
    void badRequestsAreRefusedAtSubmit() {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        lm.maxPositions = 8;
        try (ContinuousBatcher b = batcher(lm, BatchingOptions.builder().maxBatchStreams(3).build())) {
            GenerationRequest amuletWithoutPref = GenerationRequest.baseOnly(new int[] {1})
                    .withConfig(GenerationConfig.builder().method(AlignmentMethod.AMULET).build());
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> b.submit(amuletWithoutPref, TokenListener.NONE)).getMessage().contains("preference"));
            GenerationRequest tooLong = GenerationRequest.baseOnly(new int[9])
                    .withConfig(GenerationConfig.builder().method(AlignmentMethod.BASE).build());
            PromptTooLongException e = assertThrows(PromptTooLongException.class,
                    () -> b.submit(tooLong, TokenListener.NONE));
            assertTrue(e.getMessage().contains("9 tokens") && e.getMessage().contains("8 positions"), e.getMessage());
            GenerationRequest wideBeam = GenerationRequest.preferenceOnly(new int[] {1})
                    .withConfig(GenerationConfig.builder().method(AlignmentMethod.BEAM).numBeams(4).build());
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> b.submit(wideBeam, TokenListener.NONE)).getMessage().contains("4 streams"));
        }
        assertThrows(IllegalArgumentException.class, () -> BatchingOptions.builder().maxBatchStreams(0).build());
    }

    @Test
    void closeFailsWaitingRequestsAndRefusesNewOnes() throws Exception {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB), GenerationConfig.defaults(),
                BatchingOptions.builder().maxBatchStreams(2).build());
        GenerationRequest endless = GenerationRequest.of(new int[] {1, 2}, new int[] {3, 4})
                .withConfig(GenerationConfig.builder().maxNewTokens(1_000_000).build());
        CompletableFuture<GenerationResult> running = b.submit(endless, TokenListener.NONE);
        b.close();
        assertTrue(running.isCompletedExceptionally());
        assertThrows(RejectedExecutionException.class, () -> b.submit(endless, TokenListener.NONE));
    }

    private static final GenerationRequest ENDLESS = GenerationRequest.of(new int[] {1, 2}, new int[] {3, 4})
            .withConfig(GenerationConfig.builder().maxNewTokens(1_000_000).build());
    private static final GenerationRequest SHORT_BASE = GenerationRequest.baseOnly(new int[] {5, 6})
            .withConfig(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(3).build());

    private static CompletableFuture<GenerationResult> started(ContinuousBatcher b, GenerationRequest r)
            throws InterruptedException {
        CountDownLatch tokens = new CountDownLatch(2);
        CompletableFuture<GenerationResult> f = b.submit(r, (q, t, d) -> tokens.countDown());
        assertTrue(tokens.await(10, TimeUnit.SECONDS), "the request runs");
        return f;
    }

    @Test
    void aCancelledWaitingRequestLeavesTheQueueAtOnce() throws Exception {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.builder().maxBatchStreams(2).maxQueue(1).build())) {
            CompletableFuture<GenerationResult> running = started(b, ENDLESS);
            CompletableFuture<GenerationResult> waiting = b.submit(SHORT_BASE, TokenListener.NONE);
            assertEquals(1, b.queuedRequests());
            waiting.cancel(true);
            assertEquals(0, b.queuedRequests(), "the cancelled request no longer waits");
            // its place in the queue is free: the next one queues instead of a 429
            CompletableFuture<GenerationResult> next = b.submit(SHORT_BASE, TokenListener.NONE);
            running.cancel(true);
            assertEquals(3, next.get(10, TimeUnit.SECONDS).generatedTokens());
        }
    }

    @Test
    void maxQueueZeroMeansNoWaitingRoomNotNoRequests() throws Exception {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.builder().maxBatchStreams(2).maxQueue(0).build())) {
            assertEquals(3, b.submit(SHORT_BASE, TokenListener.NONE).get(10, TimeUnit.SECONDS).generatedTokens(),
                    "an idle batcher runs a request with no waiting room");
            CompletableFuture<GenerationResult> running = started(b, ENDLESS);
            assertThrows(QueueFullException.class, () -> b.submit(SHORT_BASE, TokenListener.NONE),
                    "a full batch and no waiting room refuse");
            assertThrows(QueueFullException.class, b::checkAdmission);
            running.cancel(true);
        }
    }

    @Test
    void anErrorInAListenerFailsOnlyItsRequestAndTheLoopGoesOn() throws Exception {
        TableLm lm = new TableLm(MODEL_VOCAB, REAL_VOCAB, 3);
        try (ContinuousBatcher b = new ContinuousBatcher(lm, new TableLm.Tokenizer(REAL_VOCAB),
                GenerationConfig.defaults(), BatchingOptions.builder().maxBatchStreams(2).build())) {
            CompletableFuture<GenerationResult> failing = b.submit(SHORT_BASE, (q, t, d) -> {
                throw new StackOverflowError("a listener's error");
            });
            assertThrows(Exception.class, () -> failing.get(10, TimeUnit.SECONDS));
            assertEquals(3, b.submit(SHORT_BASE, TokenListener.NONE).get(10, TimeUnit.SECONDS).generatedTokens(),
                    "the decoding loop still runs after an Error");
        }
    }
}
