package io.github.amulet4j.djl.gguf;

import io.github.amulet4j.formats.gguf.KQuantEncoder;

import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufModelConfig;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.formats.gguf.GgufTensorStore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accuracy cost of quantized GGUF weights (dequantized to float32 on load): a small random Llama with 256-wide
 * rows (whole K-quant blocks) written as F16, BF16, Q8_0, Q4_0, Q6_K and Q4_K GGUF (the K-quants by the plain
 * {@link KQuantEncoder}) against its float32 weights; the largest logit error, relative to the spread of the
 * logits, and how often the top token agrees. The bounds are about twice the values measured (a random two-layer
 * model amplifies weight errors far more than a trained one: they measure the formats on this model, not on real
 * ones).
 */
class GgufQuantizedTest {

    private static final Logger LOG = LoggerFactory.getLogger(GgufQuantizedTest.class);

    @TempDir
    Path dir;

    /** A Llama whose rows are whole 256-value K-quant blocks (the tiny shapes' are not). */
    static ModelConfig kQuantShape() {
        return new ModelConfig("LlamaForCausalLM", 256, 2, 4, 2, 64, 512, 512, 256, 1e-5, 10_000.0, null, false,
                false, false, "silu", 1, List.of(2), "float32");
    }

    @ParameterizedTest
    @CsvSource({"F16, 0.02, 0.95", "BF16, 0.15, 0.95", "Q8_0, 0.4, 0.9", "Q6_K, 2.0, 0.6", "Q4_K, 4.0, 0.4",
        "Q4_0, 5.0, 0.25"})
    void quantizedLogitsWithinTheFormatsError(GgmlType type, double maxRelative, double minTop1) throws IOException {
        ModelConfig hf = kQuantShape();
        TensorStore source = RandomCheckpoint.create(hf, 3, "", RandomModelFolder.TINY_STD);
        Path gguf = dir.resolve(type + ".gguf");
        new GgufModelWriter(hf, source, type).encoder(KQuantEncoder::encode).write(gguf);
        int[] prompt = GgufModelTest.tokens(hf, 48, 9);
        try (GgufFile g = GgufFile.open(gguf);
             TensorStore st = source;
             DjlCausalLm want = DjlCausalLm.load(hf, st, GgufModelTest.engine());
             DjlCausalLm got = DjlCausalLm.load(GgufModelConfig.read(g), GgufTensorStore.of(g, GgufModelConfig.read(g)),
                     GgufModelTest.engine())) {
            assertTrue(g.tensor("blk.0.attn_q.weight").type() == type, "weights stored as " + type);
            float[][] a = want.logitsAllPositions(prompt);
            float[][] b = got.logitsAllPositions(prompt);
            double maxErr = 0;
            double sumSq = 0;
            long n = 0;
            int top1 = 0;
            for (int p = 0; p < a.length; p++) {
                int ia = 0;
                int ib = 0;
                for (int v = 0; v < a[p].length; v++) {
                    maxErr = Math.max(maxErr, Math.abs(a[p][v] - b[p][v]));
                    sumSq += (double) a[p][v] * a[p][v];
                    n++;
                    ia = a[p][v] > a[p][ia] ? v : ia;
                    ib = b[p][v] > b[p][ib] ? v : ib;
                }
                top1 += ia == ib ? 1 : 0;
            }
            double rms = Math.sqrt(sumSq / n);
            double relative = maxErr / rms;
            double agree = (double) top1 / a.length;
            LOG.info("GGUF {}: max |logit error| {} (logit rms {}, relative {}), top-1 agreement {}/{}", type,
                    String.format("%.5f", maxErr), String.format("%.3f", rms), String.format("%.5f", relative), top1,
                    a.length);
            assertTrue(relative <= maxRelative, type + ": max logit error " + maxErr + " = " + relative
                    + " x the logit rms " + rms);
            assertTrue(agree >= minTop1, type + ": top-1 agreement " + agree);
        }
    }
}
