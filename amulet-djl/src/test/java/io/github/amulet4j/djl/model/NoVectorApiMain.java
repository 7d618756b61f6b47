package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.VectorSupport;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;

/**
 * Run in a child JVM (without {@code --add-modules jdk.incubator.vector}, or on another JDK): prints what the
 * linear-kernel settings resolve to there, and per weight format whether the linear layers ran on the Java kernels and
 * how far a tiny model's logits are from the naive reference (float32 weights).
 */
public final class NoVectorApiMain {

    private NoVectorApiMain() {
    }

    private static float worst(float[][] want, float[][] got) {
        float worst = 0;
        for (int t = 0; t < want.length; t++) {
            worst = Math.max(worst, TestModels.maxAbsDiff(want[t], got[t]));
        }
        return worst;
    }

    public static void main(String[] args) {
        System.out.println("vector=" + VectorSupport.available());
        System.out.println("auto=" + RuntimeOptions.defaults().effectiveLinearKernel());
        try {
            RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA).build().effectiveLinearKernel();
            System.out.println("java=accepted");
        } catch (IllegalStateException e) {
            System.out.println("java=refused: " + e.getMessage());
        }
        ModelConfig c = ModelShapes.tinyQwen2();
        InMemoryTensorStore store = TestModels.store(c, 5);
        int[] prompt = TestModels.tokens(c, 12, 3);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store)) {
            System.out.println("onHeap=" + lm.linearLayersOnHeap());
            System.out.println("maxAbsDiff=" + worst(want, lm.logitsAllPositions(prompt)));
        }
        if (VectorSupport.available()) {
            for (RuntimeOptions.Weights w : new RuntimeOptions.Weights[] {RuntimeOptions.Weights.F32,
                    RuntimeOptions.Weights.BF16, RuntimeOptions.Weights.F16, RuntimeOptions.Weights.Q8_0,
                    RuntimeOptions.Weights.Q4_0}) {
                System.out.println(w + " onHeap=true maxAbsDiff=" + formatDiff(w));
            }
        }
    }

    /** How far the tiny model's logits with weights {@code w} on the Java kernels are from the float32 reference. */
    static float formatDiff(RuntimeOptions.Weights w) {
        ModelConfig c = ModelShapes.tinyQwen2();
        InMemoryTensorStore store = TestModels.store(c, 5);
        int[] prompt = TestModels.tokens(c, 12, 3);
        float[][] want = new NaiveReference(c, store).logits(prompt);
        try (DjlCausalLm lm = DjlCausalLm.load(c, store, RuntimeOptions.builder().weights(w)
                .linearKernel(RuntimeOptions.LinearKernel.JAVA).build())) {
            if (!lm.linearLayersOnHeap()) {
                throw new IllegalStateException(w + ": not on the Java kernels");
            }
            return worst(want, lm.logitsAllPositions(prompt));
        }
    }
}
