package io.github.amulet4j.transformer;

import java.util.Random;

/**
 * Keys (tiled as {@link JavaKvCache} stores them, and plain), values and queries of one key head, for the attention
 * tests: {@code slots} slots of {@code headDim} values, {@code rows} rows of {@code qkvDim} projections whose first
 * {@code qDim} are the queries of the heads.
 */
record AttentionInputs(float[][] plainKeys, float[] keys, float[] values, float[] qkv, int qDim, int qkvDim) {

    /** Gaussian keys and values, queries Gaussian times {@code queryScale}, drawn from {@code seed} in that order. */
    static AttentionInputs random(int headDim, int slots, int heads, int rows, double queryScale, long seed) {
        int tile = JavaKvCache.TILE;
        Random random = new Random(seed);
        float[][] plainKeys = new float[slots][headDim];
        float[] keys = new float[(slots + tile) / tile * tile * headDim];
        float[] values = new float[slots * headDim];
        for (int s = 0; s < slots; s++) {
            for (int d = 0; d < headDim; d++) {
                plainKeys[s][d] = (float) random.nextGaussian();
                keys[JavaKvCache.keyIndex(s, d, headDim)] = plainKeys[s][d];
                values[s * headDim + d] = (float) random.nextGaussian();
            }
        }
        int qDim = heads * headDim;
        int qkvDim = qDim + 2 * headDim;
        float[] qkv = new float[rows * qkvDim];
        for (int i = 0; i < qkv.length; i++) {
            qkv[i] = (float) (random.nextGaussian() * queryScale);
        }
        return new AttentionInputs(plainKeys, keys, values, qkv, qDim, qkvDim);
    }
}
