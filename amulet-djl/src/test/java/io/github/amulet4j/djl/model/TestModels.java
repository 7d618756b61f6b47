package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.RandomCheckpoint;
import io.github.amulet4j.formats.checkpoint.TensorLayout;

import io.github.amulet4j.formats.checkpoint.InMemoryTensorStore;
import io.github.amulet4j.formats.checkpoint.ModelConfig;

import java.util.SplittableRandom;

/** Helpers shared by the model tests: random stores, configs with changed fields, comparisons. */
final class TestModels {

    static final float TEST_STD = 0.1f;

    private TestModels() {
    }

    static InMemoryTensorStore store(ModelConfig c, long seed) {
        return RandomCheckpoint.create(c, seed, TensorLayout.GPT2_PREFIX, TEST_STD);
    }

    static int[] tokens(ModelConfig c, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(c.vocabSize());
        }
        return t;
    }

    static ModelConfig withMaxPositions(ModelConfig c, int max) {
        return new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), max, c.normEps(), c.ropeTheta(), c.ropeScaling(),
                c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(), c.bosTokenId(), c.eosTokenIds(),
                c.torchDtype(), c.slidingWindow(), c.gemma(), c.partialRotaryFactor());
    }

    static ModelConfig withLayers(ModelConfig c, int layers, int maxPositions) {
        return new ModelConfig(c.architecture(), c.hiddenSize(), layers, c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), maxPositions, c.normEps(), c.ropeTheta(), c.ropeScaling(),
                c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(), c.bosTokenId(), c.eosTokenIds(),
                c.torchDtype(), c.slidingWindow(), null, c.partialRotaryFactor());
    }

    static ModelConfig withArchitecture(ModelConfig c, String architecture) {
        return new ModelConfig(architecture, c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(), c.ropeTheta(),
                c.ropeScaling(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(), c.bosTokenId(),
                c.eosTokenIds(), c.torchDtype(), c.slidingWindow(), c.gemma(), c.partialRotaryFactor());
    }

    static ModelConfig withoutRopeScaling(ModelConfig c) {
        return new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(), c.ropeTheta(), null,
                c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(), c.bosTokenId(), c.eosTokenIds(),
                c.torchDtype(), c.slidingWindow(), c.gemma(), c.partialRotaryFactor());
    }

    static ModelConfig withRopeScaling(ModelConfig c, ModelConfig.RopeScaling scaling) {
        return new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.normEps(), c.ropeTheta(), scaling,
                c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.hiddenAct(), c.bosTokenId(), c.eosTokenIds(),
                c.torchDtype(), c.slidingWindow(), c.gemma(), c.partialRotaryFactor());
    }

    static float maxAbsDiff(float[] a, int aOff, float[] b, int bOff, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            float d = Math.abs(a[aOff + i] - b[bOff + i]);
            if (Float.isNaN(d)) {
                return Float.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        return maxAbsDiff(a, 0, b, 0, a.length);
    }
}
