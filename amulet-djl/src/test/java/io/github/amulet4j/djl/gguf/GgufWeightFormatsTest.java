package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.KQuantEncoder;

import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.transformer.weights.Kernels;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GGUF weights held by the Java kernels under {@code weights auto}: Q8_0 and Q4_0 tensors as the same blocks (a model
 * from the Q8_0 GGUF gives exactly the logits of the float32 weights quantized to Q8_0 on load), the K-quants in their
 * own blocks too: with the Java kernels (float32 activations) their logits are those of the K-quant values held as
 * float32, to float32 summation error.
 */
class GgufWeightFormatsTest {

    private static final Logger LOG = LoggerFactory.getLogger(GgufWeightFormatsTest.class);

    @TempDir
    Path dir;

    static RuntimeOptions java(RuntimeOptions.Weights w) {
        return RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).weights(w).build();
    }

    @ParameterizedTest
    @CsvSource({"Q8_0, Q8_0", "Q4_0, Q4_0"})
    void blockTypesHeldAsTheSameBlocks(GgmlType type, RuntimeOptions.Weights same) throws IOException {
        ModelConfig c = GgufQuantizedTest.kQuantShape();
        TensorStore f32 = RandomCheckpoint.create(c, 4, "", RandomModelFolder.TINY_STD);
        Path gguf = dir.resolve(type + ".gguf");
        new GgufModelWriter(c, f32, type).write(gguf);
        int[] prompt = GgufModelTest.tokens(c, 12, 5);
        try (GgufModel g = GgufModel.open(gguf);
             DjlCausalLm fromGguf = DjlCausalLm.load(g.config(), g.weights(), java(RuntimeOptions.Weights.AUTO));
             DjlCausalLm onLoad = DjlCausalLm.load(c, f32, java(same))) {
            assertEquals(type.name(), fromGguf.weightFormats(), "held as " + type);
            assertEquals(onLoad.weightBytes(), fromGguf.weightBytes());
            float[][] a = onLoad.logitsAllPositions(prompt);
            float[][] b = fromGguf.logitsAllPositions(prompt);
            for (int p = 0; p < a.length; p++) {
                for (int v = 0; v < a[p].length; v++) {
                    assertEquals(a[p][v], b[p][v], 1e-5f, type + " position " + p + " logit " + v);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"Q6_K, 1e-4", "Q4_K, 1e-4"})
    void kQuantsHeldInTheirOwnBlocks(GgmlType type, double maxRelative) throws IOException {
        ModelConfig c = GgufQuantizedTest.kQuantShape();
        TensorStore f32 = RandomCheckpoint.create(c, 4, "", RandomModelFolder.TINY_STD);
        Path gguf = dir.resolve(type + ".gguf");
        new GgufModelWriter(c, f32, type).encoder(KQuantEncoder::encode).write(gguf);
        int[] prompt = GgufModelTest.tokens(c, 24, 5);
        try (GgufModel g = GgufModel.open(gguf);
             DjlCausalLm auto = DjlCausalLm.load(g.config(), g.weights(), RuntimeOptions.builder()
                     .linearKernel(RuntimeOptions.LinearKernel.JAVA).kernels(Kernels.JAVA)
                     .weights(RuntimeOptions.Weights.AUTO).build());
             DjlCausalLm exact = DjlCausalLm.load(g.config(), g.weights(), java(RuntimeOptions.Weights.F32))) {
            assertEquals(type.name(), auto.weightFormats());
            float[][] a = exact.logitsAllPositions(prompt);
            float[][] b = auto.logitsAllPositions(prompt);
            double max = 0;
            double sumSq = 0;
            long n = 0;
            for (int p = 0; p < a.length; p++) {
                for (int v = 0; v < a[p].length; v++) {
                    max = Math.max(max, Math.abs(a[p][v] - b[p][v]));
                    sumSq += (double) a[p][v] * a[p][v];
                    n++;
                }
            }
            double relative = max / Math.sqrt(sumSq / n);
            LOG.info("GGUF {} held as is: max |logit error| {} against the {} values in float32 (relative {})", type,
                    String.format("%.5f", max), type, String.format("%.5f", relative));
            assertTrue(relative <= maxRelative, type + " held as is: relative logit error " + relative);
        }
    }
}
