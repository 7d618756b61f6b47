package io.github.amulet4j.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link QueryBlockAttention} against softmax attention computed naively in float64 from the same keys, values and
 * queries, for blocks of one to four queries, seven and eight heads of a key head, a first visible slot inside a tile
 * (padding), histories ending inside a tile and spanning several value blocks.
 */
class QueryBlockAttentionTest {

    private static final int HEAD_DIM = 64;
    private static final int TILE = JavaKvCache.TILE;

    @Test
    void matchesSoftmaxAttentionInFloat64() {
        assertTrue(QueryBlockAttention.applies(HEAD_DIM));
        Random random = new Random(11);
        int heads = 8;
        int qDim = heads * HEAD_DIM;
        int qkvDim = qDim + 2 * HEAD_DIM;
        int slots = 700;
        float[][] plainKeys = new float[slots][HEAD_DIM];
        float[] keys = new float[(slots + TILE) / TILE * TILE * HEAD_DIM];
        float[] values = new float[slots * HEAD_DIM];
        for (int s = 0; s < slots; s++) {
            for (int d = 0; d < HEAD_DIM; d++) {
                plainKeys[s][d] = (float) random.nextGaussian();
                keys[JavaKvCache.keyIndex(s, d, HEAD_DIM)] = plainKeys[s][d];
                values[s * HEAD_DIM + d] = (float) random.nextGaussian();
            }
        }
        int rows = 4;
        float[] qkv = new float[rows * qkvDim];
        for (int i = 0; i < qkv.length; i++) {
            qkv[i] = (float) (random.nextGaussian() * 0.2);
        }
        QueryBlockAttention block = new QueryBlockAttention(HEAD_DIM, qkvDim, qDim, 0f);
        int[][] cases = {{0, 4, 7, 0, 650}, {1, 3, 8, 5, 696}, {0, 1, 7, 17, 40}, {2, 2, 6, 0, 130}, {0, 4, 8, 33, 3}};
        for (int[] c : cases) {
            int i0 = c[0], n = c[1], count = c[2], lo = c[3], query0 = c[4];
            float[] attn = new float[rows * qDim];
            block.attend(keys, values, qkv, attn, i0, n, 0, count, lo, query0);
            for (int j = 0; j < n; j++) {
                for (int h = 0; h < count; h++) {
                    double[] want = AttentionReference.naive(plainKeys, values, qkv, (i0 + j) * qkvDim + h * HEAD_DIM,
                            lo, query0 + j, HEAD_DIM);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(want[d], attn[(i0 + j) * qDim + h * HEAD_DIM + d], 1e-5,
                                "case " + java.util.Arrays.toString(c) + ", query " + j + ", head " + h + ", dim " + d);
                    }
                }
            }
        }
    }
}
