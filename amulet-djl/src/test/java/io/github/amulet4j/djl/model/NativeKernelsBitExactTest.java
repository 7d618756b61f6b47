package io.github.amulet4j.djl.model;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the native kernels (every product, prefill and decode), a prompt's logits are bit for bit the same however the
 * prompt is cut into chunks, whether the prompt cache held part of it, and whether other requests share its batch:
 * each column of a native product is the one it gets alone, and the rest of the pass treats positions one by one.
 * Every architecture of {@link ModelShapes#tinyAll()} in every weight format the native kernels take.
 */
class NativeKernelsBitExactTest {

    static final int PROMPT = 36;

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = RuntimeOptions.Weights.class, names = {"BF16", "F16", "Q8_0", "Q4_0"})
    void logitsDoNotDependOnChunksCacheOrBatch(RuntimeOptions.Weights w) {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        int reused = 0;
        for (ModelConfig c : ModelShapes.tinyAll()) {
            InMemoryTensorStore store = TestModels.store(c, 91);
            int[] prompt = TestModels.tokens(c, PROMPT, 5);
            String what = c + " " + w;
            float[][] whole = null;
            // one chunk, a divisor of the prompt, one that is not, one token at a time
            for (int chunk : new int[] {PROMPT, 12, 7, 1}) {
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, options(w, chunk, 0))) {
                    float[][] got = lm.logitsAllPositions(prompt);
                    if (whole == null) {
                        whole = got;
                    }
                    for (int t = 0; t < PROMPT; t++) {
                        assertArrayEquals(whole[t], got[t], what + " chunk " + chunk + " position " + t);
                    }
                }
            }
            // the prompt cache: the first 20 tokens and 4 decode steps cached, then the whole prompt again; a fresh
            // prefill of the same prompt on its own and beside another request
            int[] head = Arrays.copyOf(prompt, 20);
            int[] other = TestModels.tokens(c, 11, 6);
            try (DjlCausalLm cached = DjlCausalLm.load(c, store, options(w, 7, 16));
                 DjlCausalLm fresh = DjlCausalLm.load(c, store, options(w, 7, 0))) {
                try (DecodingSession s = cached.prefill(List.of(head))) {
                    for (int k = 20; k < 24; k++) {
                        s.append(new int[] {prompt[k]});
                    }
                }
                try (DecodingSession hit = cached.prefill(List.of(prompt));
                     DecodingSession alone = fresh.prefill(List.of(prompt));
                     DecodingSession batch = fresh.prefill(List.of(other, prompt))) {
                    // the 20 prefilled tokens reused (an entry holds prefilled positions only, not the 4 appended by decode steps;
                    // none where the architecture's positions keep the cache from reuse: longrope)
                    reused += hit.reusedPromptTokens(0);
                    assertArrayEquals(whole[PROMPT - 1], alone.logits().row(0), what + " session prefill");
                    assertArrayEquals(whole[PROMPT - 1], hit.logits().row(0), what + " after a cache hit");
                    assertArrayEquals(whole[PROMPT - 1], batch.logits().row(1), what + " beside another request");
                    for (int step = 0; step < 3; step++) {
                        int next = 3 + step;
                        hit.append(new int[] {next});
                        alone.append(new int[] {next});
                        batch.append(new int[] {1 + step, next});
                        float[] want = alone.logits().row(0);
                        assertArrayEquals(want, hit.logits().row(0), what + " step " + step + " after a cache hit");
                        assertArrayEquals(want, batch.logits().row(1), what + " step " + step + " in a batch");
                    }
                }
            }
        }
        assertTrue(reused >= 20 * (ModelShapes.tinyAll().size() - 1), "the prompt cache was hit: " + reused);
    }

    private static RuntimeOptions options(RuntimeOptions.Weights w, int chunk, int cacheMib) {
        return RuntimeOptions.builder().weights(w).kernels(Kernels.NATIVE).prefillChunk(chunk)
                .promptCacheMib(cacheMib).initialCacheCapacity(4).build();
    }
}
