package io.github.amulet4j.djl.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Phi-3's longrope through sessions (the {@code phi3-long} reference checkpoint, original length 8): a batch of
 * streams of different lengths, one crossing the original length while the other does not, and the prompt cache,
 * each equal to a fresh pass over every stream's whole sequence.
 */
class Phi3SessionTest {

    static final double TOL = 1e-4;

    private static int[] ids() throws IOException {
        Path dir = ReferenceCheckpointsTest.folder("phi3-long");
        return JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject()
                .getAsJsonArray("token_ids").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    private static void assertRow(String what, float[] fresh, float[] row) {
        for (int v = 0; v < fresh.length; v++) {
            assertEquals(fresh[v], row[v], TOL, what + ", logit " + v);
        }
    }

    private static float[] fresh(DjlCausalLm lm, int[] sequence) {
        float[][] all = lm.logitsAllPositions(sequence);
        return all[all.length - 1];
    }

    @ParameterizedTest
    @EnumSource(RuntimeOptions.LinearKernel.class)
    void streamsOfABatchCrossTheOriginalLengthAsFreshPasses(RuntimeOptions.LinearKernel kernel) throws IOException {
        int[] ids = ids();
        Path dir = ReferenceCheckpointsTest.folder("phi3-long");
        ModelConfig config = ModelConfigReader.readFolder(dir);
        try (TensorStore store = Checkpoints.open(dir);
             DjlCausalLm lm = DjlCausalLm.load(config, store,
                     RuntimeOptions.builder().linearKernel(kernel).initialCacheCapacity(4).build())) {
            int[] a = Arrays.copyOf(ids, 6);
            int[] b = Arrays.copyOfRange(ids, 3, 6);
            try (DecodingSession s = lm.prefill(List.of(a, b))) {
                for (int step = 0; step < 6; step++) {
                    int ta = ids[(6 + step) % ids.length];
                    int tb = ids[step];
                    s.append(new int[] {ta, tb});
                    a = Arrays.copyOf(a, a.length + 1);
                    a[a.length - 1] = ta;
                    b = Arrays.copyOf(b, b.length + 1);
                    b[b.length - 1] = tb;
                    assertRow(kernel + " stream a of " + a.length + " tokens", fresh(lm, a), s.logits().row(0));
                    assertRow(kernel + " stream b of " + b.length + " tokens", fresh(lm, b), s.logits().row(1));
                }
                // a multi-token extend across the original length
                s.extend(new int[][] {{ids[0], ids[1]}, {ids[2], ids[3]}});
                int[] a2 = Arrays.copyOf(a, a.length + 2);
                a2[a.length] = ids[0];
                a2[a.length + 1] = ids[1];
                int[] b2 = Arrays.copyOf(b, b.length + 2);
                b2[b.length] = ids[2];
                b2[b.length + 1] = ids[3];
                assertRow(kernel + " extended stream a", fresh(lm, a2), s.logits().row(0));
                assertRow(kernel + " extended stream b (crossed)", fresh(lm, b2), s.logits().row(1));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RuntimeOptions.LinearKernel.class)
    void thePromptCacheServesOnlySequencesWithinTheOriginalLength(RuntimeOptions.LinearKernel kernel)
            throws IOException {
        int[] ids = ids();
        Path dir = ReferenceCheckpointsTest.folder("phi3-long");
        ModelConfig config = ModelConfigReader.readFolder(dir);
        try (TensorStore store = Checkpoints.open(dir);
             DjlCausalLm lm = DjlCausalLm.load(config, store,
                     RuntimeOptions.builder().linearKernel(kernel).build())) {
            try (DecodingSession s = lm.prefill(List.of(Arrays.copyOf(ids, 7)))) {
                assertEquals(0, s.reusedPromptTokens(0));
            }
            int[] longPrompt = Arrays.copyOf(ids, 12);
            assertEquals(0, lm.cachedPrefix(longPrompt), "a prompt beyond the original length reuses nothing");
            try (DecodingSession s = lm.prefill(List.of(longPrompt))) {
                assertEquals(0, s.reusedPromptTokens(0));
                assertRow(kernel + " long prompt", fresh(lm, longPrompt), s.logits().row(0));
            }
            int[] shortPrompt = Arrays.copyOf(ids, 8);
            try (DecodingSession s = lm.prefill(List.of(shortPrompt))) {
                boolean cacheOn = lm.promptCache().isPresent();
                assertEquals(cacheOn ? 8 - io.github.amulet4j.transformer.PromptCache.LEFT_TO_RUN : 0,
                        s.reusedPromptTokens(0), "the short prompt's prefix is served");
                assertRow(kernel + " short prompt", fresh(lm, shortPrompt), s.logits().row(0));
            }
            // the 12-token session above was not kept: a 12-token prompt still reuses nothing
            assertEquals(0, lm.cachedPrefix(longPrompt));
        }
    }
}
