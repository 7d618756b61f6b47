package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.transformer.weights.Kernels;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole models in every weight format against float32: logits, greedy tokens, cached decoding, AUTO, options. */
class WeightFormatsTest {

    /**
     * Largest accepted max |logit difference| / max |logit| against float32 (PyTorch), per format: about twice the
     * worst of the five tiny models (measured F32 8e-7, BF16 1.1e-2, F16 1.1e-3, Q8_0 2.5e-2, Q4_0 0.40; random
     * weights of std 0.1 in 32-64 dimensions, every weight quantized, the embedding table included). Tiny Mistral's
     * 48- and 80-weight rows are not whole blocks: in Q8_0 and Q4_0 its matrices are held as F16. Since prompts of up
     * to 32 tokens run on the native kernels too, which quantize the activations to 8 bits as llama.cpp does, Q8_0's
     * worst case is tiny Gemma 3 (q/k norms and soft-capped logits amplify it): 5.7e-2, hence its bound 8e-2.
     */
    static final Map<RuntimeOptions.Weights, Double> BOUND = new EnumMap<>(Map.of(
            RuntimeOptions.Weights.F32, 2e-6,
            RuntimeOptions.Weights.BF16, 2.5e-2,
            RuntimeOptions.Weights.F16, 2.5e-3,
            RuntimeOptions.Weights.Q8_0, 8e-2,
            RuntimeOptions.Weights.Q4_0, 0.8));

    @Test
    void everyArchitectureInEveryFormatStaysWithinItsBoundOfFloat32() {
        StringBuilder report = new StringBuilder("max relative logit error vs float32 (PyTorch):");
        for (RuntimeOptions.Weights w : BOUND.keySet()) {
            double worst = 0;
            for (ModelConfig c : ModelShapes.tinyAll()) {
                InMemoryTensorStore store = TestModels.store(c, 31);
                int[] prompt = TestModels.tokens(c, 24, 4);
                float[][] want;
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, engine())) {
                    want = lm.logitsAllPositions(prompt);
                }
                float[][] got;
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().weights(w).build())) {
                    got = lm.logitsAllPositions(prompt);
                }
                double scale = 0;
                double diff = 0;
                for (int t = 0; t < prompt.length; t++) {
                    for (int v = 0; v < c.vocabSize(); v++) {
                        scale = Math.max(scale, Math.abs(want[t][v]));
                        diff = Math.max(diff, Math.abs(want[t][v] - got[t][v]));
                    }
                }
                double rel = diff / scale;
                worst = Math.max(worst, rel);
                assertTrue(rel <= BOUND.get(w), c.architecture() + " " + w + ": relative error " + rel);
                // greedy tokens equal float32's wherever float32's margin exceeds twice the format's bound
                for (int t = 0; t < prompt.length; t++) {
                    int a = argmax(want[t]);
                    if (margin(want[t], a) > 2 * BOUND.get(w) * scale) {
                        assertEquals(a, argmax(got[t]), c.architecture() + " " + w + " position " + t);
                    }
                }
            }
            report.append(String.format(java.util.Locale.ROOT, " %s %.2e;", w, worst));
        }
        System.err.println(report);
    }

    @Test
    void quantizedCachedDecodingOfTwoStreamsEqualsTheWholeSequence() {
        for (ModelConfig c : List.of(ModelShapes.tinyLlama(), ModelShapes.tinyQwen3())) {
            InMemoryTensorStore store = TestModels.store(c, 37);
            int[] prompt = TestModels.tokens(c, 6, 8);
            int[] more = TestModels.tokens(c, 4, 9);
            for (RuntimeOptions.Weights w : List.of(RuntimeOptions.Weights.Q4_0, RuntimeOptions.Weights.BF16)) {
                // the Java kernels for decode too (the native ones quantize a step's activations: see below)
                try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().weights(w)
                        .kernels(Kernels.JAVA).build())) {
                    int[] all = java.util.Arrays.copyOf(prompt, prompt.length + more.length);
                    System.arraycopy(more, 0, all, prompt.length, more.length);
                    float[][] whole = lm.logitsAllPositions(all);
                    try (DecodingSession s = lm.prefill(List.of(prompt, prompt))) {
                        for (int i = 0; i < more.length; i++) {
                            s.append(new int[] {more[i], more[i]});
                            for (int row = 0; row < 2; row++) {
                                float d = TestModels.maxAbsDiff(whole[prompt.length + i], s.logits().row(row));
                                assertTrue(d <= 1e-4f, c.architecture() + " " + w + " step " + i + " row " + row + ": " + d);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The native kernels (one and two streams of Q8_0/Q4_0 decode) against the Java ones on the same weights: they
     * differ only by the 8-bit quantization of each step's activations (per block of 32, at most max|x| / 254 an
     * element), measured at up to 2.8e-2 (Q8_0) and 2.7e-2 (Q4_0) of the largest logit on these tiny models (rows of
     * one or two blocks, random weights; the Java kernels' Q8_0 weights alone are 2.5e-2 from float32); the bound is
     * about twice that. Greedy tokens agree where the Java logits' margin is over twice the bound.
     */
    @Test
    void nativeKernelsDecodeTwoStreamsAsTheJavaKernelsWithinTheActivationQuantizationError() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                io.github.amulet4j.transformer.weights.NativeKernels.accelerated(), "no native kernels here");
        double bound = 6e-2;
        StringBuilder report = new StringBuilder("native vs Java kernels, max relative logit difference:");
        for (ModelConfig c : List.of(ModelShapes.tinyLlama(), ModelShapes.tinyQwen3(), ModelShapes.tinyQwen2())) {
            InMemoryTensorStore store = TestModels.store(c, 53);
            int[] prompt = TestModels.tokens(c, 6, 8);
            int[] more = TestModels.tokens(c, 5, 9);
            for (RuntimeOptions.Weights w : List.of(RuntimeOptions.Weights.Q8_0, RuntimeOptions.Weights.Q4_0)) {
                double worst = 0;
                try (DjlCausalLm java = DjlCausalLm.load(c, store, RuntimeOptions.builder().weights(w)
                        .kernels(Kernels.JAVA).build());
                     DjlCausalLm nat = DjlCausalLm.load(c, store, RuntimeOptions.builder().weights(w)
                             .kernels(Kernels.NATIVE).build());
                     DecodingSession a = java.prefill(List.of(prompt, more));
                     DecodingSession b = nat.prefill(List.of(prompt, more))) {
                    for (int i = 0; i < more.length; i++) {
                        a.append(new int[] {more[i], prompt[i]});
                        b.append(new int[] {more[i], prompt[i]});
                        for (int row = 0; row < 2; row++) {
                            float[] want = a.logits().row(row);
                            float[] got = b.logits().row(row);
                            double scale = 0;
                            for (float v : want) {
                                scale = Math.max(scale, Math.abs(v));
                            }
                            double rel = TestModels.maxAbsDiff(want, got) / scale;
                            worst = Math.max(worst, rel);
                            String what = c.architecture() + " " + w + " step " + i + " row " + row;
                            assertTrue(rel <= bound, what + ": " + rel);
                            int top = argmax(want);
                            if (margin(want, top) > 2 * bound * scale) {
                                assertEquals(top, argmax(got), what);
                            }
                        }
                    }
                }
                report.append(String.format(java.util.Locale.ROOT, " %s %s %.2e;", c.architecture(), w, worst));
            }
        }
        System.err.println(report);
    }

    @Test
    void autoKeepsABf16CheckpointInBf16() {
        ModelConfig c = ModelShapes.tinyLlama();
        TensorStore bf16 = new DeclaredStore(TestModels.store(c, 41), io.github.amulet4j.transformer.weights.WeightFormat.BF16);
        int[] prompt = TestModels.tokens(c, 10, 2);
        try (DjlCausalLm auto = DjlCausalLm.load(c, bf16);
             DjlCausalLm explicit = DjlCausalLm.load(c, bf16, RuntimeOptions.builder()
                     .weights(RuntimeOptions.Weights.BF16).build());
             DjlCausalLm f32 = DjlCausalLm.load(c, bf16, RuntimeOptions.builder()
                     .weights(RuntimeOptions.Weights.F32).build())) {
            assertArrayEquals(explicit.logitsAllPositions(prompt)[9], auto.logitsAllPositions(prompt)[9]);
            long linear = DjlCausalLm.linearElements(c) + (long) c.vocabSize() * c.hiddenSize();
            assertEquals(2 * linear, f32.weightBytes() - auto.weightBytes(), "two bytes a weight instead of four");
            assertEquals("BF16", auto.weightFormats());
        }
    }

    @Test
    void autoKeepsQuantizedTensorsOfAGgufStoreInTheirFormat() {
        ModelConfig c = ModelShapes.tinyLlama();
        int[] prompt = TestModels.tokens(c, 10, 2);
        for (io.github.amulet4j.transformer.weights.WeightFormat f : List.of(io.github.amulet4j.transformer.weights.WeightFormat.Q8_0,
                io.github.amulet4j.transformer.weights.WeightFormat.Q4_0)) {
            TensorStore q = new DeclaredStore(TestModels.store(c, 43), f);
            try (DjlCausalLm auto = DjlCausalLm.load(c, q);
                 DjlCausalLm explicit = DjlCausalLm.load(c, q, RuntimeOptions.builder()
                         .weights(RuntimeOptions.Weights.valueOf(f.name())).build())) {
                assertEquals(f.name(), auto.weightFormats());
                assertEquals(explicit.weightBytes(), auto.weightBytes());
                // requantizing dequantized blocks gives the same blocks: the same logits as quantizing once
                assertArrayEquals(explicit.logitsAllPositions(prompt)[9], auto.logitsAllPositions(prompt)[9]);
            }
        }
    }

    @Test
    void formatsThatOnlyTheJavaKernelsHoldAreRefusedElsewhereByName() {
        RuntimeOptions engineQ8 = RuntimeOptions.builder().weights(RuntimeOptions.Weights.Q8_0)
                .linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, engineQ8::effectiveLinearKernel);
        assertTrue(e.getMessage().contains("weights Q8_0"), e.getMessage());
        RuntimeOptions gpu = RuntimeOptions.builder().weights(RuntimeOptions.Weights.BF16)
                .device(ai.djl.Device.gpu()).build();
        e = assertThrows(IllegalStateException.class, gpu::effectiveLinearKernel);
        assertTrue(e.getMessage().contains("GPU"), e.getMessage());
        assertEquals(RuntimeOptions.Weights.Q4_0, RuntimeOptions.Weights.parse("q4_0"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.Weights.parse("int8"));
        assertTrue(bad.getMessage().contains("auto, f32, bf16, f16, q8_0, q4_0"), bad.getMessage());
        assertEquals(RuntimeOptions.Weights.Q4_0, RuntimeOptions.builder().weights(RuntimeOptions.Weights.Q4_0).build()
                .toBuilder().build().weights());
    }

    private static RuntimeOptions engine() {
        return RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.ENGINE).build();
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double margin(float[] v, int top) {
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            if (i != top) {
                second = Math.max(second, v[i]);
            }
        }
        return v[top] - second;
    }

    /**
     * A store that declares its matrices as {@code format} and holds their values rounded through it (as a BF16
     * safetensors file or a GGUF store that dequantizes on read returns them); vectors stay F32.
     */
    private static final class DeclaredStore implements TensorStore {
        private final InMemoryTensorStore inner;
        private final io.github.amulet4j.transformer.weights.WeightFormat format;

        DeclaredStore(InMemoryTensorStore inner, io.github.amulet4j.transformer.weights.WeightFormat format) {
            this.inner = inner;
            this.format = format;
        }

        private boolean rounded(String name) {
            long[] s = inner.shape(name);
            return s.length == 2 && format.fits(s[1]);
        }

        @Override
        public Set<String> names() {
            return inner.names();
        }

        @Override
        public long[] shape(String name) {
            return inner.shape(name);
        }

        @Override
        public String dtype(String name) {
            return rounded(name) ? format.name() : "F32";
        }

        @Override
        public float[] readFloat32(String name) {
            float[] v = inner.readFloat32(name);
            if (!rounded(name)) {
                return v;
            }
            long[] s = inner.shape(name);
            return io.github.amulet4j.transformer.weights.WeightMatrix.of(format, v, (int) s[0], (int) s[1]).toFloatArray();
        }

        @Override
        public void close() {
        }
    }
}
