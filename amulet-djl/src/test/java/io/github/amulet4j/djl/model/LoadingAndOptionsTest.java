package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad checkpoints, options, dtype guard and float16 compute. */
class LoadingAndOptionsTest {

    private static InMemoryTensorStore copyExcept(InMemoryTensorStore src, String skip, String replace, long[] shape) {
        InMemoryTensorStore out = new InMemoryTensorStore();
        for (String n : src.names()) {
            if (n.equals(skip)) {
                continue;
            }
            if (n.equals(replace)) {
                long size = 1;
                for (long d : shape) {
                    size *= d;
                }
                out.put(n, shape, new float[(int) size]);
            } else {
                out.put(n, src.shape(n), src.readFloat32(n));
            }
        }
        return out;
    }

    @Test
    void missingTensorIsNamed() {
        ModelConfig c = ModelShapes.tinyQwen2();
        InMemoryTensorStore store = copyExcept(TestModels.store(c, 1), "model.layers.1.self_attn.k_proj.bias", null, null);
        RuntimeOptions opts = RuntimeOptions.builder().checkpointName("/models/tiny-qwen2").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DjlCausalLm.load(c, store, opts));
        assertTrue(e.getMessage().contains("/models/tiny-qwen2") && e.getMessage().contains("missing tensor")
                && e.getMessage().contains("model.layers.1.self_attn.k_proj.bias")
                && e.getMessage().contains("[32]"), e.getMessage());
    }

    @Test
    void untiedHeadMustBePresent() {
        ModelConfig c = ModelShapes.tinyMistral();
        InMemoryTensorStore store = copyExcept(TestModels.store(c, 1), "lm_head.weight", null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DjlCausalLm.load(c, store));
        assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());
    }

    @Test
    void wrongShapeNamesTensorExpectedAndActual() {
        ModelConfig c = ModelShapes.tinyGpt2();
        String name = "transformer.h.0.attn.c_attn.weight";
        InMemoryTensorStore store = copyExcept(TestModels.store(c, 1), null, name, new long[] {144, 48});
        RuntimeOptions opts = RuntimeOptions.builder().checkpointName("gpt2-test").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DjlCausalLm.load(c, store, opts));
        assertTrue(e.getMessage().contains("gpt2-test") && e.getMessage().contains(name)
                && e.getMessage().contains("[144, 48]") && e.getMessage().contains("[48, 144]"), e.getMessage());
    }

    @Test
    void unsupportedArchitectureAndRopeScalingAreRejected() {
        ModelConfig bad = TestModels.withArchitecture(ModelShapes.tinyLlama(), "FalconForCausalLM");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DjlCausalLm.load(bad, new InMemoryTensorStore()));
        assertTrue(e.getMessage().contains("FalconForCausalLM") && e.getMessage().contains("Qwen3ForCausalLM"),
                e.getMessage());
        ModelConfig c = ModelShapes.tinyLlama();
        ModelConfig yarn = new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(),
                c.ropeTheta(), new ModelConfig.RopeScaling("yarn", 4, 0, 0, 0), false, false, false, "silu", null,
                List.of(), null);
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> DjlCausalLm.load(yarn, TestModels.store(c, 1)));
        assertTrue(e2.getMessage().contains("yarn"), e2.getMessage());
    }

    /**
     * An unsupported hidden_act is refused before a single weight is read, and the failed load leaves no product
     * worker thread behind (it used to be found after all weights were loaded, with the threads leaked).
     */
    @Test
    void unsupportedActivationIsRefusedBeforeAnyWeightIsReadAndNoThreadLeaks() {
        ModelConfig c = ModelShapes.tinyQwen2();
        ModelConfig geglu = new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(),
                c.ropeTheta(), c.ropeScaling(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), "geglu_xyz",
                c.bosTokenId(), c.eosTokenIds(), c.torchDtype(), c.slidingWindow());
        InMemoryTensorStore weights = TestModels.store(c, 1);
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        io.github.amulet4j.formats.checkpoint.TensorStore counting = new io.github.amulet4j.formats.checkpoint.TensorStore() {
            @Override
            public java.util.Set<String> names() {
                return weights.names();
            }

            @Override
            public long[] shape(String name) {
                return weights.shape(name);
            }

            @Override
            public String dtype(String name) {
                return weights.dtype(name);
            }

            @Override
            public float[] readFloat32(String name) {
                reads.incrementAndGet();
                return weights.readFloat32(name);
            }

            @Override
            public void close() {
            }
        };
        String prefix = "amulet-product";
        long before = productThreads(prefix);
        RuntimeOptions opts = RuntimeOptions.builder().productThreads(3).checkpointName("/models/act").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DjlCausalLm.load(geglu, counting, opts));
        assertTrue(e.getMessage().contains("hidden_act") && e.getMessage().contains("geglu_xyz")
                && e.getMessage().contains("silu"), e.getMessage());
        assertEquals(0, reads.get(), "weights read before the config was checked");
        assertEquals(before, productThreads(prefix), "product worker threads left running after a failed load");
        // a load that fails on the weights (a missing tensor) leaves none either
        InMemoryTensorStore missing = copyExcept(weights, "model.norm.weight", null, null);
        assertThrows(IllegalArgumentException.class, () -> DjlCausalLm.load(c, missing, opts));
        assertEquals(before, productThreads(prefix));
    }

    /** Live threads whose name starts with {@code prefix} (a stopped worker may take a moment to end). */
    private static long productThreads(String prefix) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        long n;
        do {
            n = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
            if (n == 0) {
                return 0;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return n;
            }
        } while (System.nanoTime() < deadline);
        return n;
    }

    @Test
    void bfloat16IsNeverHandedToTheEngine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.builder().computeType(DataType.BFLOAT16));
        assertTrue(e.getMessage().contains("BFLOAT16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.requireSupportedComputeType(DataType.BFLOAT16));
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.builder().computeType(DataType.INT8));
        assertEquals(DataType.FLOAT16, RuntimeOptions.builder().computeType(DataType.FLOAT16).build().computeType());
    }

    @Test
    void productThreadsAreValidatedAndResolvedPerDevice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.builder().productThreads(-1));
        assertTrue(e.getMessage().contains("productThreads"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.builder().productThreads(257));
        assertEquals(3, RuntimeOptions.builder().productThreads(3).build().effectiveProductThreads());
        int auto = RuntimeOptions.defaults().effectiveProductThreads();
        assertEquals(Math.min(8, Runtime.getRuntime().availableProcessors()), auto, "the cores, at most 8");
        assertEquals(1, RuntimeOptions.builder().device(ai.djl.Device.gpu()).build().effectiveProductThreads());
        assertEquals(4, RuntimeOptions.builder().productThreads(4).build().toBuilder().build().productThreads());
    }

    /** The automatic setting on machines of 16, 3 and 1 cores (child JVMs told so), whatever this one has. */
    @Test
    void automaticProductThreadsAreTheCoresAtMostEight() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int[] coresWant : new int[][] {{16, 8}, {3, 3}, {1, 1}}) {
            Process p = new ProcessBuilder(javaBin, "-XX:ActiveProcessorCount=" + coresWant[0], "-cp",
                    System.getProperty("java.class.path"), AutoProductThreadsMain.class.getName())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertEquals(String.valueOf(coresWant[1]), out.strip(), coresWant[0] + " cores");
        }
    }

    /** A JVM without the Vector API module: auto falls back to the engine, java is refused by name, logits still right. */
    @Test
    void withoutTheVectorApiAutoFallsBackToTheEngine() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                NoVectorApiMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("vector=false\n") && out.contains("auto=ENGINE\n") && out.contains("onHeap=false\n"), out);
        assertTrue(out.contains("java=refused: ") && out.contains("--add-modules jdk.incubator.vector")
                && out.contains("Vector API absent"), out);
        String diff = out.substring(out.indexOf("maxAbsDiff=") + "maxAbsDiff=".length()).lines().findFirst().orElseThrow();
        assertTrue(Float.parseFloat(diff) <= 1e-4f, out);
        // and in this JVM, which has the module, auto is the Java kernel
        assertEquals(RuntimeOptions.LinearKernel.JAVA, RuntimeOptions.defaults().effectiveLinearKernel());
    }

    @Test
    void linearKernelResolvesPerDeviceAndDtypeAndRefusesWhatCannotRun() {
        assertEquals(RuntimeOptions.LinearKernel.AUTO, RuntimeOptions.defaults().linearKernel());
        // the surefire JVM has the Vector API
        assertEquals(RuntimeOptions.LinearKernel.JAVA, RuntimeOptions.defaults().effectiveLinearKernel());
        assertEquals(RuntimeOptions.LinearKernel.ENGINE,
                RuntimeOptions.builder().computeType(DataType.FLOAT16).build().effectiveLinearKernel());
        assertEquals(RuntimeOptions.LinearKernel.ENGINE,
                RuntimeOptions.builder().device(ai.djl.Device.gpu()).build().effectiveLinearKernel());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RuntimeOptions.builder()
                .computeType(DataType.FLOAT16).linearKernel(RuntimeOptions.LinearKernel.JAVA).build()
                .effectiveLinearKernel());
        assertTrue(e.getMessage().contains("float32") && e.getMessage().contains("float16"), e.getMessage());
        assertEquals(RuntimeOptions.LinearKernel.JAVA, RuntimeOptions.builder()
                .linearKernel(RuntimeOptions.LinearKernel.JAVA).build().toBuilder().build().linearKernel());
    }

    @Test
    void float16ComputeStaysCloseToFloat32() {
        for (ModelConfig c : List.of(ModelShapes.tinyQwen3(), ModelShapes.tinyGpt2(), ModelShapes.tinyLlama(),
                ModelShapes.tinyGemma2(), ModelShapes.tinyGemma3())) {
            InMemoryTensorStore store = TestModels.store(c, 61);
            List<int[]> prompts = List.of(TestModels.tokens(c, 9, 1), TestModels.tokens(c, 4, 2));
            RuntimeOptions half = RuntimeOptions.builder().computeType(DataType.FLOAT16).build();
            try (DjlCausalLm f32 = DjlCausalLm.load(c, store);
                 DjlCausalLm f16 = DjlCausalLm.load(c, store, half);
                 DecodingSession a = f32.prefill(prompts);
                 DecodingSession b = f16.prefill(prompts)) {
                assertEquals(DataType.FLOAT16, f16.computeType());
                for (int s = 0; s < 5; s++) {
                    float d = TestModels.maxAbsDiff(a.logits().data(), b.logits().data());
                    assertTrue(d < 0.05f, c.architecture() + " step " + s + ": float16 vs float32 " + d);
                    int[] next = {s + 3, s + 7};
                    a.append(next);
                    b.append(next);
                }
            }
        }
    }

    @Test
    void missingGpuGivesAClearError() {
        Assumptions.assumeTrue(Engine.getEngine(DjlCausalLm.ENGINE).getGpuCount() == 0, "a GPU is present");
        ModelConfig c = ModelShapes.tinyLlama();
        RuntimeOptions opts = RuntimeOptions.builder().device(Device.gpu()).build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DjlCausalLm.load(c, TestModels.store(c, 1), opts));
        assertTrue(e.getMessage().contains("GPU"), e.getMessage());
    }

    @Test
    void randomCheckpointHasEveryExpectedTensorAndIsDeterministic() {
        for (ModelConfig c : ModelShapes.tinyAll()) {
            Map<String, long[]> expected = handLayout(c);
            InMemoryTensorStore a = RandomCheckpoint.create(c, 9);
            InMemoryTensorStore b = RandomCheckpoint.create(c, 9);
            assertEquals(expected.keySet(), a.names());
            for (String n : expected.keySet()) {
                assertTrue(java.util.Arrays.equals(expected.get(n), a.shape(n)), n);
                assertTrue(java.util.Arrays.equals(a.readFloat32(n), b.readFloat32(n)), n);
            }
        }
        float[] v = RandomCheckpoint.normal(3_000_000, 0f, 0.02f, 5);
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        double std = Math.sqrt(sq / v.length - mean * mean);
        assertTrue(Math.abs(mean) < 1e-4 && Math.abs(std - 0.02) < 1e-4, "mean " + mean + ", std " + std);
    }

    /**
     * The Hugging Face tensor names and shapes of each architecture, written out from the transformers modelling
     * code (nn.Linear weights are [out, in]; GPT-2's Conv1D weights are [in, out]), not from TensorLayout.
     */
    static Map<String, long[]> handLayout(ModelConfig c) {
        Map<String, long[]> m = new java.util.TreeMap<>();
        long h = c.hiddenSize();
        long v = c.vocabSize();
        long i = c.intermediateSize();
        if (c.architecture().equals("GPT2LMHeadModel")) {
            m.put("transformer.wte.weight", new long[] {v, h});
            m.put("transformer.wpe.weight", new long[] {c.maxPositions(), h});
            for (int l = 0; l < c.numLayers(); l++) {
                String p = "transformer.h." + l + ".";
                for (String ln : List.of("ln_1", "ln_2")) {
                    m.put(p + ln + ".weight", new long[] {h});
                    m.put(p + ln + ".bias", new long[] {h});
                }
                m.put(p + "attn.c_attn.weight", new long[] {h, 3 * h});
                m.put(p + "attn.c_attn.bias", new long[] {3 * h});
                m.put(p + "attn.c_proj.weight", new long[] {h, h});
                m.put(p + "attn.c_proj.bias", new long[] {h});
                m.put(p + "mlp.c_fc.weight", new long[] {h, i});
                m.put(p + "mlp.c_fc.bias", new long[] {i});
                m.put(p + "mlp.c_proj.weight", new long[] {i, h});
                m.put(p + "mlp.c_proj.bias", new long[] {h});
            }
            m.put("transformer.ln_f.weight", new long[] {h});
            m.put("transformer.ln_f.bias", new long[] {h});
            return m;
        }
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        m.put("model.embed_tokens.weight", new long[] {v, h});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            if (c.architecture().equals("Phi3ForCausalLM")) {
                // modeling_phi3: Phi3Attention.qkv_proj (q, k, v rows), Phi3MLP.gate_up_proj (gate, up rows)
                m.put(p + "self_attn.qkv_proj.weight", new long[] {q + 2 * kv, h});
                m.put(p + "self_attn.o_proj.weight", new long[] {h, q});
                m.put(p + "mlp.gate_up_proj.weight", new long[] {2 * i, h});
                m.put(p + "mlp.down_proj.weight", new long[] {h, i});
                continue;
            }
            m.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            m.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            m.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            m.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            if (c.architecture().equals("Qwen2ForCausalLM")) {
                m.put(p + "self_attn.q_proj.bias", new long[] {q});
                m.put(p + "self_attn.k_proj.bias", new long[] {kv});
                m.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            if (c.architecture().startsWith("Gemma")) {
                // Gemma2DecoderLayer / Gemma3DecoderLayer: a norm before and after the MLP
                m.put(p + "pre_feedforward_layernorm.weight", new long[] {h});
                m.put(p + "post_feedforward_layernorm.weight", new long[] {h});
            }
            if (c.architecture().equals("Qwen3ForCausalLM") || c.architecture().equals("Gemma3ForCausalLM")) {
                m.put(p + "self_attn.q_norm.weight", new long[] {c.headDim()});
                m.put(p + "self_attn.k_norm.weight", new long[] {c.headDim()});
            }
            m.put(p + "mlp.gate_proj.weight", new long[] {i, h});
            m.put(p + "mlp.up_proj.weight", new long[] {i, h});
            m.put(p + "mlp.down_proj.weight", new long[] {h, i});
        }
        m.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new long[] {v, h});
        }
        return m;
    }

    @Test
    void closedModelRejectsUse() {
        ModelConfig c = ModelShapes.tinyQwen3();
        DjlCausalLm lm = DjlCausalLm.load(c, TestModels.store(c, 1));
        lm.close();
        assertThrows(IllegalStateException.class, () -> lm.prefill(List.of(new int[] {1})));
    }
}
