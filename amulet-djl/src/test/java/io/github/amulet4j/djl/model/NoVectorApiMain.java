package io.github.amulet4j.djl.model;

import io.github.amulet4j.djl.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.djl.checkpoint.ModelConfig;

/**
 * Run in a child JVM started without {@code --add-modules jdk.incubator.vector}: prints what the linear-kernel
 * settings resolve to there, and how far a tiny model's logits are from the naive reference.
 */
public final class NoVectorApiMain {

    private NoVectorApiMain() {
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
            float[][] got = lm.logitsAllPositions(prompt);
            float worst = 0;
            for (int t = 0; t < prompt.length; t++) {
                worst = Math.max(worst, TestModels.maxAbsDiff(want[t], got[t]));
            }
            System.out.println("onHeap=" + lm.linearLayersOnHeap());
            System.out.println("maxAbsDiff=" + worst);
        }
    }
}
