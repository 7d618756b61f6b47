package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.cuda.CudaUtils;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Manual check (not a test; it needs a CUDA GPU and the CUDA PyTorch natives): the GPU path of
 * {@link DjlCausalLm} against the CPU path, for a tiny random checkpoint of every supported architecture.
 *
 * <ul>
 *   <li>float32 on the GPU vs float32 on the CPU: the prefill logits of a left-padded two-stream batch, eight cached
 *       decode steps (both fed the CPU's greedy tokens), a {@code select} that swaps the streams, the same without a
 *       KV cache, and {@link DjlCausalLm#logitsAllPositions}; max abs difference at most {@value #F32_TOL}. TF32 stays
 *       off: libtorch's default for float32 matmuls is full IEEE precision and nothing here changes it.</li>
 *   <li>float16 on the GPU vs float32 on the CPU: the same batch, max abs difference at most {@value #F16_TOL}.</li>
 *   <li>the facade: {@link AmuletModel} on a random model folder of every tiny shape, greedy, methods base, pref, la
 *       and amulet: the GPU's float32 tokens equal the CPU's.</li>
 * </ul>
 *
 * <p>Usage: {@code CudaEquivalenceCheck [gpu|cpu]}. {@code cpu} compares the CPU with itself through the same code
 * (a rehearsal on a machine without a GPU). Prints one line per comparison and {@code PASS}/{@code FAIL}; the exit
 * status is 1 when anything failed, 2 when {@code gpu} is asked and no GPU is visible.
 */
public final class CudaEquivalenceCheck {

    static final float F32_TOL = 1e-3f;
    static final float F16_TOL = 0.05f;
    private static final int STEPS = 8;
    private static final int NEW_TOKENS = 24;
    private static final String QUESTION = "What is the ozone layer?";

    private final Device target;
    private int failures;
    private float worstF32;
    private float worstF16;

    private CudaEquivalenceCheck(Device target) {
        this.target = target;
    }

    public static void main(String[] args) throws IOException {
        String mode = args.length > 0 ? args[0].toLowerCase(Locale.ROOT) : "gpu";
        if (!mode.equals("gpu") && !mode.equals("cpu")) {
            System.err.println("usage: CudaEquivalenceCheck [gpu|cpu]; got '" + args[0] + "'");
            System.exit(2);
        }
        Engine engine = Engine.getEngine(DjlCausalLm.ENGINE);
        // DJL counts GPUs only when torch reports CUDA, and then through its own cudart probe (CudaUtils, JNA)
        System.out.printf("engine %s %s, CUDA capability %s, CudaUtils GPUs %d, GPUs visible: %d%n",
                engine.getEngineName(), engine.getVersion(), engine.hasCapability(StandardCapabilities.CUDA),
                CudaUtils.getGpuCount(), engine.getGpuCount());
        if (mode.equals("gpu") && engine.getGpuCount() == 0) {
            System.out.println("FAIL no GPU visible to the PyTorch engine");
            System.exit(2);
        }
        CudaEquivalenceCheck check = new CudaEquivalenceCheck(mode.equals("gpu") ? Device.gpu() : Device.cpu());
        long t0 = System.nanoTime();
        for (ModelConfig c : ModelShapes.tinyAll()) {
            check.compareSessions(c);
        }
        check.compareFacade();
        System.out.printf(Locale.ROOT, "summary: target %s, worst float32 diff %.3g (tol %.0e), worst float16 diff %.3g "
                        + "(tol %.0e), %d failure(s), %.1f s%n", check.target, check.worstF32, F32_TOL, check.worstF16,
                F16_TOL, check.failures, (System.nanoTime() - t0) / 1e9);
        System.out.println(check.failures == 0 ? "PASS CudaEquivalenceCheck" : "FAIL CudaEquivalenceCheck");
        System.exit(check.failures == 0 ? 0 : 1);
    }

    private void compareSessions(ModelConfig c) {
        InMemoryTensorStore store = TestModels.store(c, 21);
        List<int[]> prompts = List.of(TestModels.tokens(c, 7, 1), TestModels.tokens(c, 4, 2));
        RuntimeOptions cpu = RuntimeOptions.builder().initialCacheCapacity(8).build();
        RuntimeOptions gpu = RuntimeOptions.builder().device(target).initialCacheCapacity(8).build();
        String arch = c.architecture();
        try (DjlCausalLm ref = DjlCausalLm.load(c, store, cpu);
             DjlCausalLm f32 = DjlCausalLm.load(c, store, gpu);
             DjlCausalLm f32NoCache = DjlCausalLm.load(c, store, gpu.toBuilder().useKvCache(false).build());
             DjlCausalLm f16 = DjlCausalLm.load(c, store, gpu.toBuilder().computeType(DataType.FLOAT16).build())) {
            expect(f32.options().device().equals(target), arch + ": model on " + f32.options().device());
            float[] diffs = run(ref, List.of(f32, f32NoCache, f16), prompts);
            report(arch + " float32 cached", diffs[0], F32_TOL, false);
            report(arch + " float32 no cache", diffs[1], F32_TOL, false);
            report(arch + " float16 cached", diffs[2], F16_TOL, true);
            float[][] a = ref.logitsAllPositions(prompts.get(0));
            float[][] b = f32.logitsAllPositions(prompts.get(0));
            float all = 0;
            for (int t = 0; t < a.length; t++) {
                all = Math.max(all, TestModels.maxAbsDiff(a[t], b[t]));
            }
            report(arch + " float32 logitsAllPositions", all, F32_TOL, false);
        } catch (RuntimeException e) {
            failures++;
            System.out.println("FAIL " + arch + ": " + e);
            e.printStackTrace(System.out);
        }
    }

    /**
     * Prefill, {@link #STEPS} steps fed with the reference's greedy tokens, a stream swap, two more steps; returns the
     * max abs logits difference of each model against the reference over all of them.
     */
    private static float[] run(DjlCausalLm ref, List<DjlCausalLm> models, List<int[]> prompts) {
        float[] worst = new float[models.size()];
        List<DecodingSession> sessions = new ArrayList<>();
        try (DecodingSession r = ref.prefill(prompts)) {
            for (DjlCausalLm m : models) {
                sessions.add(m.prefill(prompts));
            }
            for (int step = 0; step <= STEPS + 2; step++) {
                if (step > 0) {
                    int[] next = greedy(r.logits().data(), r.logits().rows(), r.logits().vocab());
                    r.append(next);
                    sessions.forEach(s -> s.append(next));
                }
                if (step == STEPS) {
                    int[] swap = {1, 0};
                    r.select(swap);
                    sessions.forEach(s -> s.select(swap));
                }
                float[] expected = r.logits().data();
                int n = r.logits().rows() * r.logits().vocab();
                for (int i = 0; i < sessions.size(); i++) {
                    DecodingSession s = sessions.get(i);
                    if (s.length(0) != r.length(0) || s.length(1) != r.length(1)) {
                        throw new AssertionError("stream lengths differ at step " + step);
                    }
                    worst[i] = Math.max(worst[i], TestModels.maxAbsDiff(expected, 0, s.logits().data(), 0, n));
                }
            }
        } finally {
            sessions.forEach(DecodingSession::close);
        }
        return worst;
    }

    private static int[] greedy(float[] logits, int rows, int vocab) {
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int v = 1; v < vocab; v++) {
                if (logits[r * vocab + v] > logits[r * vocab + best]) {
                    best = v;
                }
            }
            out[r] = best;
        }
        return out;
    }

    private void compareFacade() throws IOException {
        Path root = Files.createTempDirectory("amulet-cuda-check-");
        try {
            for (RandomModelFolder.Shape shape : RandomModelFolder.Shape.values()) {
                if (!shape.isTiny()) {
                    continue;
                }
                Path folder = root.resolve(shape.id());
                RandomModelFolder.write(folder, shape, 11, SafetensorsDtype.F32);
                try (AmuletModel cpu = AmuletModel.load(ModelOptions.of(folder));
                     AmuletModel gpu = AmuletModel.load(ModelOptions.builder().model(folder).runtime(r -> r.device(target)).build());
                     AmuletModel half = AmuletModel.load(ModelOptions.builder().model(folder)
                             .runtime(r -> r.device(target).computeType(DataType.FLOAT16)).build())) {
                    for (AlignmentMethod method : List.of(AlignmentMethod.BASE, AlignmentMethod.PREF, AlignmentMethod.LA, AlignmentMethod.AMULET)) {
                        GenerationConfig config = GenerationConfig.builder().method(method).maxNewTokens(NEW_TOKENS)
                                .build();
                        GenerationResult a = cpu.generate(QUESTION, Preference.of("concise"), config);
                        GenerationResult b = gpu.generate(QUESTION, Preference.of("concise"), config);
                        boolean same = Arrays.equals(a.tokenIds(), b.tokenIds());
                        if (!same) {
                            failures++;
                        }
                        System.out.printf("%s facade %s %s float32: %d tokens %s%n", same ? "PASS" : "FAIL", shape.id(),
                                method.id(), b.generatedTokens(), same ? "equal to the CPU's"
                                        : "DIFFER: cpu " + Arrays.toString(a.tokenIds()) + " gpu "
                                        + Arrays.toString(b.tokenIds()));
                    }
                    GenerationConfig amulet = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(NEW_TOKENS)
                            .build();
                    GenerationResult h = half.generate(QUESTION, Preference.of("concise"), amulet);
                    GenerationResult f = cpu.generate(QUESTION, Preference.of("concise"), amulet);
                    int agree = 0;
                    while (agree < Math.min(h.tokenIds().length, f.tokenIds().length)
                            && h.tokenIds()[agree] == f.tokenIds()[agree]) {
                        agree++;
                    }
                    // float16 may pick another token where two are nearly tied: informational, not a failure
                    System.out.printf("INFO facade %s amulet float16: %d tokens, first %d equal to the CPU float32 "
                            + "tokens%n", shape.id(), h.generatedTokens(), agree);
                }
            }
        } catch (RuntimeException e) {
            failures++;
            System.out.println("FAIL facade: " + e);
            e.printStackTrace(System.out);
        } finally {
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void report(String what, float diff, float tol, boolean half) {
        boolean ok = diff <= tol;
        if (!ok) {
            failures++;
        }
        if (half) {
            worstF16 = Math.max(worstF16, diff);
        } else {
            worstF32 = Math.max(worstF32, diff);
        }
        System.out.printf(Locale.ROOT, "%s %-44s max abs logits diff vs CPU float32 %.3g (tol %.0e)%n",
                ok ? "PASS" : "FAIL", what, diff, tol);
    }

    private void expect(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.out.println("FAIL " + what);
        }
    }
}
